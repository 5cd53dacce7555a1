-- Forget a reservation whose request never reached the provider, and the budget claim it
-- holds. ARGV: base, id. (release() comes from _release.lua, loaded before this file.)

local entry = release(ARGV[1], ARGV[2])
if not entry then return 0 end
if entry.b then release(entry.b, entry.bi) end
return 1
