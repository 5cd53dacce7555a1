-- Update a scope's health record atomically; a cooldown is only ever lengthened.
-- ARGV: base, op ('trip' | 'note' | 'auth' | 'success' | 'clear'), now, kind, message,
-- until|fingerprint. Returns the record as HGETALL pairs, plus probe_until when a probe is held.
-- 'clear' (a reset by hand) ends in the same state as 'success'; the last error stays.

local base, op = ARGV[1], ARGV[2]
local key = base .. 'health'
if op == 'success' or op == 'clear' then
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'open_until', '0', 'consecutive_failures', '0')
    redis.call('HDEL', key, 'auth_failed_fingerprint', 'opened_at', 'opened_by')
  end
  redis.call('DEL', base .. 'probe')
  return {}
end
redis.call('HSET', key, 'last_error_kind', ARGV[4], 'last_error_message', ARGV[5],
  'last_error_at', ARGV[3])
if op == 'trip' then
  -- The first failure of a run opens the circuit: remember when and why, for status.
  local failures = tonumber(redis.call('HGET', key, 'consecutive_failures') or '0')
  if failures == 0 then
    redis.call('HSET', key, 'opened_at', ARGV[3], 'opened_by', ARGV[4])
  end
  local current = redis.call('HGET', key, 'open_until')
  if not current or tonumber(ARGV[6]) > tonumber(current) then
    redis.call('HSET', key, 'open_until', ARGV[6])
  end
  redis.call('HINCRBY', key, 'consecutive_failures', 1)
elseif op == 'auth' then
  redis.call('HSET', key, 'auth_failed_fingerprint', ARGV[6])
end
local out = redis.call('HGETALL', key)
local probe = redis.call('GET', base .. 'probe')
if probe then
  table.insert(out, 'probe_until')
  table.insert(out, probe)
end
return out
