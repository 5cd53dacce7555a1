-- Settle a reservation and write the attempt to the ledger, in one script (one round trip, one
-- reply, atomic). settle() comes from _settle.lua, loaded before this file.
-- ARGV: base, id, tokens, prefix, entry (JSON), day, provider, ok (0/1), prompt_tokens,
--       completion_tokens, cost_usd, latency_s, ledger capacity.

local base, id, tokens = ARGV[1], ARGV[2], tonumber(ARGV[3])
local prefix, entry, day, provider = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local ok = tonumber(ARGV[8])
local settled = settle(base, id, tokens)

redis.call('LPUSH', prefix .. 'ledger', entry)
redis.call('LTRIM', prefix .. 'ledger', 0, tonumber(ARGV[13]) - 1)
local totals = prefix .. 'day:' .. day
redis.call('HINCRBY', totals, provider .. '|requests', 1)
redis.call('HINCRBY', totals, provider .. '|succeeded', ok)
redis.call('HINCRBY', totals, provider .. '|failed', 1 - ok)
redis.call('HINCRBY', totals, provider .. '|prompt_tokens', ARGV[9])
redis.call('HINCRBY', totals, provider .. '|completion_tokens', ARGV[10])
redis.call('HINCRBYFLOAT', totals, provider .. '|cost_usd', ARGV[11])
redis.call('HINCRBYFLOAT', totals, provider .. '|latency_s_total', ARGV[12])
redis.call('ZADD', prefix .. 'days', 0, day)
return settled
