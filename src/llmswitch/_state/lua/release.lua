-- Forget a reservation whose request never reached the provider. ARGV: base, id.

local base, id = ARGV[1], ARGV[2]
local key = base .. 'e:' .. id
local raw = redis.call('GET', key)
if not raw then return 0 end
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
return 1
