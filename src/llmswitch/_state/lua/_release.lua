-- release(base, id): forget a reservation in the windows that still hold it. Returns the
-- entry it was (nil when unknown: expired, released). Shared by release.lua.
local function release(base, id)
  local key = base .. 'e:' .. id
  local raw = redis.call('GET', key)
  if not raw then return nil end
  local entry = cjson.decode(raw)
  local minus = string.format('%d', -entry.t)
  for _, period in ipairs(entry.z) do
    if redis.call('ZREM', base .. 'z:' .. period, id) == 1 then
      redis.call('HINCRBY', base .. 'zt:' .. period, 'n', -1)
      redis.call('HINCRBY', base .. 'zt:' .. period, 't', minus)
    end
  end
  for _, day in ipairs(entry.c) do
    if redis.call('EXISTS', day) == 1 then
      redis.call('HINCRBY', day, 'n', -1)
      redis.call('HINCRBY', day, 't', minus)
    end
  end
  redis.call('DEL', key)
  return entry
end
