-- settle(base, id, tokens): replace a reservation's token estimate by the real count, in the
-- windows that still hold it. Returns 1, or 0 when the reservation is unknown (expired,
-- released). Shared by settle.lua and settle_record.lua.
local function settle(base, id, new)
  local key = base .. 'e:' .. id
  local raw = redis.call('GET', key)
  if not raw then return 0 end
  local entry = cjson.decode(raw)
  local delta = string.format('%d', new - entry.t)
  for _, period in ipairs(entry.z) do
    if redis.call('ZSCORE', base .. 'z:' .. period, id) then
      redis.call('HINCRBY', base .. 'zt:' .. period, 't', delta)
    end
  end
  for _, day in ipairs(entry.c) do
    if redis.call('EXISTS', day) == 1 then redis.call('HINCRBY', day, 't', delta) end
  end
  entry.t = new
  redis.call('SET', key, cjson.encode(entry), 'KEEPTTL')
  return 1
end
