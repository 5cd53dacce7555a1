-- Reserve in every window of a scope and its budget, or refuse: reserve() of _reserve.lua.
return reserve(ARGV)
