-- Replace a reservation's token estimate by the real count, in the windows that still hold it.
-- ARGV: base, id, tokens. Returns 1, or 0 when the reservation is unknown (expired, released).
-- (settle() comes from _settle.lua, loaded before this file.)

return settle(ARGV[1], ARGV[2], tonumber(ARGV[3]))
