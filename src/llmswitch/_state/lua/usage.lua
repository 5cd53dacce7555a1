-- How full each window is. ARGV: base, now, server_time, windows...
-- Returns, per window: requests, tokens, and when it is back to full ('' when empty).

local base = ARGV[1]
local now = clock(ARGV[2], ARGV[3])
local out = {}
for i = 4, #ARGV, FIELDS do
  local period, reset = ARGV[i + 3], ARGV[i + 4]
  local n, t, resets
  if reset == 'rolling' then
    local z, zt
    z, zt, n, t = rolling(base, period, now)
    local last = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
    if last[2] then resets = fmt(tonumber(last[2]) + tonumber(period)) end
  else
    local key, e
    key, e, n, t = calendar(base, reset, ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], now)
    resets = fmt(e)
  end
  table.insert(out, n)
  table.insert(out, t)
  table.insert(out, resets or '')
end
return out
