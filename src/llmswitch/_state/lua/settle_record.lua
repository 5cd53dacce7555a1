-- Settle a reservation and write the attempt to the ledger, in one script (one round trip, one
-- reply, atomic). settle() and record() come from _settle.lua and _record.lua, loaded first.
-- ARGV: base, id, tokens, then record()'s arguments. Both halves are idempotent: the settle
-- sets a count (the same again on a replay) and the entry is written once by its id.
-- Returns {settled (1/0), recorded (1/0)}.

local settled = settle(ARGV[1], ARGV[2], tonumber(ARGV[3]))
return {settled, record(4)}
