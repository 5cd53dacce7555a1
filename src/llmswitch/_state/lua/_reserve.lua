-- reserve(A): reserve one request of A[4] tokens in every window of a scope, and the call's
-- worst-case cost in its provider's budget, or refuse: all or nothing. Shared by reserve.lua
-- (A = ARGV) and admit.lua (A = the tail of its ARGV).
-- A: base, now, server_time ('1': use TIME), tokens, retain_ms, margin_ms, process id, budget
-- base ('' = no budget), budget micro-dollars, budget retain_ms, then the budget's window
-- (FIELDS fields, only with a budget), then the key's windows.
-- Returns {1, id, processes, counts...} or {0, window name, retry_at ('' = never), reason,
-- processes, counts...}: counts are each window's requests and tokens now (the granted
-- reservation included), then the budget's (with one), processes how many reserved on the scope
-- within retain_ms. A process failing open starts from them (see guarded.py). A block answers
-- {0, 'blocked', until, reason}. The budget refuses first, then a block, then the windows (the
-- order of _availability.decide).

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

-- The windows of ARGV[first..last] on `base` for `amount`: what they hold, and the refusal
-- that binds longest. `rolled` and `days` collect the keys a grant then records in.
local function check(A, base, first, last, amount, now)
  local out = {rolled = {}, days = {}, seen = {}, refused = false}
  for i = first, last, FIELDS do
    local name, unit, limit = A[i], A[i + 1], tonumber(A[i + 2])
    local period, reset = A[i + 3], A[i + 4]
    local need = 1
    if unit ~= 'requests' then need = math.max(1, amount) end
    local n, t, retry, z
    if reset == 'rolling' then
      local zt
      z, zt, n, t = rolling(base, period, now)
      out.rolled[period] = {z, zt}
    else
      local key, e
      key, e, n, t = calendar(base, reset, A[i + 5], A[i + 6], A[i + 7], A[i + 8], now)
      out.days[key] = e
      if need <= limit then retry = e end
    end
    table.insert(out.seen, {n, t})
    local used = (unit == 'requests') and n or t
    if limit > 0 and used + need > limit then
      if z and need <= limit then
        retry = rolling_retry(base, z, tonumber(period), unit, used + need - limit)
      end
      if not out.refused or (out.retry and (not retry or retry > out.retry)) then
        out.name, out.retry = name, retry
      end
      out.refused = true
    end
  end
  return out
end

-- Record a granted reservation `id` of `amount` in the windows `c` checked; returns its entry.
local function hold(base, c, id, amount, now, retain_ms, margin_ms)
  local periods, day_keys = {}, {}
  for period, k in pairs(c.rolled) do
    redis.call('ZADD', k[1], now, id)
    redis.call('HINCRBY', k[2], 'n', 1)
    redis.call('HINCRBY', k[2], 't', int(amount))
    local ms = math.ceil(tonumber(period) * 1000) + margin_ms
    redis.call('PEXPIRE', k[1], ms)
    redis.call('PEXPIRE', k[2], ms)
    table.insert(periods, period)
  end
  for key, e in pairs(c.days) do
    redis.call('HINCRBY', key, 'n', 1)
    redis.call('HINCRBY', key, 't', int(amount))
    redis.call('PEXPIRE', key, math.ceil(math.max(e - now, 0) * 1000) + margin_ms)
    table.insert(day_keys, key)
  end
  return {t = amount, z = periods, c = day_keys}
end

local function reserve(A)
  local base = A[1]
  local now = clock(A[2], A[3])
  local tokens = tonumber(A[4])
  local retain_ms, margin_ms = tonumber(A[5]), tonumber(A[6])
  local bbase, micros, bretain_ms = A[8], tonumber(A[9]), tonumber(A[10])
  local first = 11
  if bbase ~= '' then first = 11 + FIELDS end
  local procs = base .. 'procs'
  redis.call('ZADD', procs, now, A[7])
  redis.call('ZREMRANGEBYSCORE', procs, '-inf', now - retain_ms / 1000)
  redis.call('PEXPIRE', procs, retain_ms)
  local processes = redis.call('ZCARD', procs)

  local budget = nil
  if bbase ~= '' then budget = check(A, bbase, 11, 11, micros, now) end
  local block = redis.call('HMGET', base .. 'block', 'until', 'reason')
  local blocked = block[1] and tonumber(block[1]) > now
  local windows = check(A, base, first, #A, tokens, now)

  local function counted(head, added, tokens_added, micros_added)
    table.insert(head, processes)
    for _, c in ipairs(windows.seen) do
      table.insert(head, int(c[1] + added))
      table.insert(head, int(c[2] + tokens_added))
    end
    if budget then
      table.insert(head, int(budget.seen[1][1] + added))
      table.insert(head, int(budget.seen[1][2] + micros_added))
    end
    return head
  end

  if budget and budget.refused then
    return counted({0, budget.name, budget.retry and fmt(budget.retry) or '', ''}, 0, 0, 0)
  end
  if blocked then
    return {0, 'blocked', block[1], block[2] or ''}
  end
  if windows.refused then
    return counted({0, windows.name, windows.retry and fmt(windows.retry) or '', ''}, 0, 0, 0)
  end

  local id = tostring(redis.call('INCR', base .. 'seq'))
  redis.call('PEXPIRE', base .. 'seq', retain_ms)  -- outlives every entry it numbered
  local entry = hold(base, windows, id, tokens, now, retain_ms, margin_ms)
  if budget then
    local bid = tostring(redis.call('INCR', bbase .. 'seq'))
    redis.call('PEXPIRE', bbase .. 'seq', bretain_ms)
    local claim = hold(bbase, budget, bid, micros, now, bretain_ms, margin_ms)
    redis.call('SET', bbase .. 'e:' .. bid, cjson.encode(claim), 'PX', bretain_ms)
    entry.b, entry.bi = bbase, bid
  end
  redis.call('SET', base .. 'e:' .. id, cjson.encode(entry), 'PX', retain_ms)
  return counted({1, id}, 1, tokens, micros or 0)
end
