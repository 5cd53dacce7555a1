-- Admission in one round trip: read what admission decides on (the circuits of the provider,
-- the model and the key, the key's learned limits) and, when they let the call go as the client
-- assumed, reserve in the same atomic step (reserve() of _reserve.lua).
-- ARGV: key base, provider base, model base ('' = no model circuit), failures_to_trip,
-- the key's fingerprint, n, then n pairs (name, value) of the learned limits the client built
-- its windows from, then reserve()'s arguments.
-- "As assumed": every circuit closed (fewer than failures_to_trip consecutive failures: no
-- cooldown, no probe), the key not refused under this fingerprint, and the learned limits
-- exactly the client's (else its windows are stale). This is _state/base.py's view_allows, the
-- same condition _availability.decide answers "available, no probe" on.
-- Returns {reserved (1/0), limits, provider health, provider probe, key health, key probe,
-- model health, model probe, then reserve()'s reply when reserved}: HGETALL pairs for hashes,
-- the probe's value or nil.

local kbase, pbase, mbase = ARGV[1], ARGV[2], ARGV[3]
local trip, fingerprint, n = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])

local function field(pairs_, name)
  for i = 1, #pairs_, 2 do
    if pairs_[i] == name then return pairs_[i + 1] end
  end
  return nil
end

local function closed(h)
  return tonumber(field(h, 'consecutive_failures') or '0') < trip
end

local limits = redis.call('HGETALL', kbase .. 'limits')
local ph, pp = redis.call('HGETALL', pbase .. 'health'), redis.call('GET', pbase .. 'probe')
local kh, kp = redis.call('HGETALL', kbase .. 'health'), redis.call('GET', kbase .. 'probe')
local mh, mp = {}, false
if mbase ~= '' then
  mh, mp = redis.call('HGETALL', mbase .. 'health'), redis.call('GET', mbase .. 'probe')
end

local ok = closed(ph) and closed(mh) and field(kh, 'auth_failed_fingerprint') ~= fingerprint
ok = ok and #limits == 2 * n
for i = 7, 6 + 2 * n, 2 do
  if not ok then break end
  ok = field(limits, ARGV[i]) == ARGV[i + 1]
end

local out = {0, limits, ph, pp, kh, kp, mh, mp}
if not ok then return out end
out[1] = 1
local tail = {}
for i = 7 + 2 * n, #ARGV do table.insert(tail, ARGV[i]) end
for _, x in ipairs(reserve(tail)) do table.insert(out, x) end
return out
