-- record(i): write one attempt to the ledger, once. Its arguments start at ARGV[i]:
--   prefix, entry (JSON), entry id ('' = no id), day, provider, roll-up field (JSON of
--   [provider, model, key alias]), ok (0/1), prompt_tokens, completion_tokens, cost_usd,
--   latency_s, ledger capacity, retention edge (raw entries older go), id memory (ms).
-- Returns 1, or 0 when the entry id was recorded already (a retry or a replay: not applied).
-- Shared by record.lua and settle_record.lua.
local function record(i)
  local prefix, entry, id, day = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local provider, rollup, ok = ARGV[i + 4], ARGV[i + 5], tonumber(ARGV[i + 6])
  if id ~= '' then
    local ids = prefix .. 'ids:' .. day
    if redis.call('SADD', ids, id) == 0 then return 0 end
    redis.call('PEXPIRE', ids, ARGV[i + 13])
  end
  local ledger = prefix .. 'ledger'
  redis.call('LPUSH', ledger, entry)
  redis.call('LTRIM', ledger, 0, tonumber(ARGV[i + 11]) - 1)
  local edge = tonumber(ARGV[i + 12])
  for _ = 1, 2 do  -- one in, at most two out: the list keeps up with the retention
    local oldest = redis.call('LINDEX', ledger, -1)
    if not oldest or cjson.decode(oldest).ts >= edge then break end
    redis.call('RPOP', ledger)
  end
  local totals, rolled = prefix .. 'day:' .. day, prefix .. 'rollup:' .. day
  for _, pair in ipairs({{totals, provider}, {rolled, rollup}}) do
    local key, field = pair[1], pair[2]
    redis.call('HINCRBY', key, field .. '|requests', 1)
    redis.call('HINCRBY', key, field .. '|succeeded', ok)
    redis.call('HINCRBY', key, field .. '|failed', 1 - ok)
    redis.call('HINCRBY', key, field .. '|prompt_tokens', ARGV[i + 7])
    redis.call('HINCRBY', key, field .. '|completion_tokens', ARGV[i + 8])
    redis.call('HINCRBYFLOAT', key, field .. '|cost_usd', ARGV[i + 9])
    redis.call('HINCRBYFLOAT', key, field .. '|latency_s_total', ARGV[i + 10])
  end
  redis.call('ZADD', prefix .. 'days', 0, day)
  return 1
end
