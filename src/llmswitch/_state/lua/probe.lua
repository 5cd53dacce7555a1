-- Take the single half-open probe slot: SET NX PX, and also take it over when the holder's
-- time (in the caller's clock, which may be simulated) has passed.
-- ARGV: base, now, server_time, ttl (seconds). Returns 1 when taken.

local key = ARGV[1] .. 'probe'
local now = tonumber(ARGV[2])
if ARGV[3] == '1' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local ttl = tonumber(ARGV[4])
local ms = math.max(1, math.ceil(ttl * 1000))
local holder_until = string.format('%.17g', now + ttl)
if redis.call('SET', key, holder_until, 'NX', 'PX', ms) then return 1 end
local current = tonumber(redis.call('GET', key))
if current and current > now then return 0 end
redis.call('SET', key, holder_until, 'PX', ms)
return 1
