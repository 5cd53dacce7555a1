-- Reserve one request of ARGV[4] tokens in every window of a scope, or refuse: all or nothing.
-- ARGV: base, now, server_time ('1': use TIME), tokens, retain_ms, margin_ms, process id,
-- windows... Returns {1, id, processes, counts...} or {0, window name, retry_at ('' = never),
-- reason, processes, counts...}: counts are each window's requests and tokens now (the granted
-- reservation included), processes how many reserved on the scope within retain_ms. A process
-- failing open starts from them (see guarded.py). A block answers {0, 'blocked', until, reason}.

local function rolling_retry(base, z, period, unit, excess)
  if unit == 'requests' then
    local r = redis.call('ZRANGE', z, excess - 1, excess - 1, 'WITHSCORES')
    if r[2] then return tonumber(r[2]) + period end
    return nil
  end
  local freed = 0
  local ids = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
  for i = 1, #ids, 2 do
    freed = freed + entry_tokens(base, ids[i])
    if freed >= excess then return tonumber(ids[i + 1]) + period end
  end
  return nil
end

local base = ARGV[1]
local now = clock(ARGV[2], ARGV[3])
local tokens = tonumber(ARGV[4])
local retain_ms, margin_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local procs = base .. 'procs'
redis.call('ZADD', procs, now, ARGV[7])
redis.call('ZREMRANGEBYSCORE', procs, '-inf', now - retain_ms / 1000)
redis.call('PEXPIRE', procs, retain_ms)
local processes = redis.call('ZCARD', procs)
local seen = {}

local block = redis.call('HMGET', base .. 'block', 'until', 'reason')
if block[1] and tonumber(block[1]) > now then
  return {0, 'blocked', block[1], block[2] or ''}
end

local rolled, days = {}, {}
local refused, worst_name, worst_retry = false, nil, nil
for i = 8, #ARGV, FIELDS do
  local name, unit, limit = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local period, reset = ARGV[i + 3], ARGV[i + 4]
  local need = 1
  if unit ~= 'requests' then need = math.max(1, tokens) end
  local n, t, retry
  if reset == 'rolling' then
    local z, zt
    z, zt, n, t = rolling(base, period, now)
    rolled[period] = {z, zt}
    table.insert(seen, {n, t})
    local used = (unit == 'requests') and n or t
    if limit > 0 and used + need > limit then
      if need <= limit then retry = rolling_retry(base, z, tonumber(period), unit, used + need - limit) end
      if not refused or (worst_retry and (not retry or retry > worst_retry)) then
        worst_name, worst_retry = name, retry
      end
      refused = true
    end
  else
    local key, e
    key, e, n, t = calendar(base, reset, ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], now)
    days[key] = e
    table.insert(seen, {n, t})
    local used = (unit == 'requests') and n or t
    if limit > 0 and used + need > limit then
      if need <= limit then retry = e end
      if not refused or (worst_retry and (not retry or retry > worst_retry)) then
        worst_name, worst_retry = name, retry
      end
      refused = true
    end
  end
end
local function counted(head, added, tokens_added)
  table.insert(head, processes)
  for _, c in ipairs(seen) do
    table.insert(head, int(c[1] + added))
    table.insert(head, int(c[2] + tokens_added))
  end
  return head
end

if refused then
  return counted({0, worst_name, worst_retry and fmt(worst_retry) or '', ''}, 0, 0)
end

local id = tostring(redis.call('INCR', base .. 'seq'))
redis.call('PEXPIRE', base .. 'seq', retain_ms)  -- outlives every entry it numbered
local periods, day_keys = {}, {}
for period, k in pairs(rolled) do
  redis.call('ZADD', k[1], now, id)
  redis.call('HINCRBY', k[2], 'n', 1)
  redis.call('HINCRBY', k[2], 't', int(tokens))
  local ms = math.ceil(tonumber(period) * 1000) + margin_ms
  redis.call('PEXPIRE', k[1], ms)
  redis.call('PEXPIRE', k[2], ms)
  table.insert(periods, period)
end
for key, e in pairs(days) do
  redis.call('HINCRBY', key, 'n', 1)
  redis.call('HINCRBY', key, 't', int(tokens))
  redis.call('PEXPIRE', key, math.ceil(math.max(e - now, 0) * 1000) + margin_ms)
  table.insert(day_keys, key)
end
redis.call('SET', base .. 'e:' .. id, cjson.encode({t = tokens, z = periods, c = day_keys}),
  'PX', retain_ms)
return counted({1, id}, 1, tokens)
