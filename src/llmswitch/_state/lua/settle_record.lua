-- Settle a reservation, its budget claim to the real cost, and write the attempt to the ledger,
-- in one script (one round trip, one reply, atomic). settle() and record() come from
-- _settle.lua and _record.lua, loaded first. ARGV: base, id, tokens, the real cost in
-- micro-dollars, then record()'s arguments. All is idempotent: a settle sets a count (the
-- same again on a replay) and the entry is written once by its id.
-- Returns {settled (1/0), recorded (1/0)}.

local raw = redis.call('GET', ARGV[1] .. 'e:' .. ARGV[2])
local settled = settle(ARGV[1], ARGV[2], tonumber(ARGV[3]))
if raw then
  local entry = cjson.decode(raw)
  if entry.b then settle(entry.b, entry.bi, tonumber(ARGV[4])) end
end
return {settled, record(5)}
