-- Block a scope until ARGV[2]; an existing later block is kept. ARGV: base, until, reason.
-- The key expires a day after the block ends (by the server's clock): it is only a hint for
-- Redis' memory, the end itself is compared with the caller's `now` when read.

local key = ARGV[1] .. 'block'
local current = redis.call('HGET', key, 'until')
if not current or tonumber(ARGV[2]) > tonumber(current) then
  redis.call('HSET', key, 'until', ARGV[2], 'reason', ARGV[3])
  local t = redis.call('TIME')
  local left = math.max(tonumber(ARGV[2]) - tonumber(t[1]), 0)
  redis.call('PEXPIRE', key, math.ceil((left + 86400) * 1000))
end
return redis.call('HMGET', key, 'until', 'reason')
