-- Shared by reserve.lua and usage.lua (prepended when the scripts are loaded).
--
-- Keys of one scope all start with `base` ("<prefix>{<scope>}:"):
--   z:<period>      sorted set: reservation id -> time, for a rolling window of <period> seconds
--   zt:<period>     hash {n, t}: requests and tokens currently in that sorted set
--   c:<zone>:<start> hash {n, t}: requests and tokens of one calendar day of <zone>
--   e:<id>          one reservation: {t = tokens, z = {periods}, c = {calendar keys}}
-- Windows come in ARGV as 9 fields: name, unit, limit, period, reset, and four calendar
-- bounds (previous day start, day start, day end, next day end) computed by the client.

local FIELDS = 9

local function clock(now_arg, use_server)
  if use_server == '1' then
    local t = redis.call('TIME')
    return tonumber(t[1]) + tonumber(t[2]) / 1000000
  end
  return tonumber(now_arg)
end

local function fmt(x)
  return string.format('%.17g', x)
end

-- Integers for HINCRBY: a Lua number such as -0 or 1e+15 would not parse as one.
local function int(x)
  return string.format('%d', x)
end

local function entry_tokens(base, id)
  local raw = redis.call('GET', base .. 'e:' .. id)
  if not raw then return 0 end
  return cjson.decode(raw).t
end

-- The rolling window of `period` brought up to `now`: entries at t count while now < t + period.
local function rolling(base, period, now)
  local z, zt = base .. 'z:' .. period, base .. 'zt:' .. period
  local edge = now - tonumber(period)
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', edge)
  if #old > 0 then
    local tokens = 0
    for _, id in ipairs(old) do tokens = tokens + entry_tokens(base, id) end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', edge)
    redis.call('HINCRBY', zt, 'n', int(-#old))
    redis.call('HINCRBY', zt, 't', int(-tokens))
  end
  if redis.call('ZCARD', z) == 0 then
    redis.call('DEL', zt)  -- nothing left: totals are zero, whatever happened before
    return z, zt, 0, 0
  end
  local c = redis.call('HMGET', zt, 'n', 't')
  return z, zt, tonumber(c[1]) or 0, tonumber(c[2]) or 0
end

-- The calendar day holding `now` among the three the client sent (clocks may disagree).
local function calendar(base, reset, b0, b1, b2, b3, now)
  local s, e = tonumber(b1), tonumber(b2)
  if now < s then
    s, e = tonumber(b0), s
  elseif now >= e then
    s, e = e, tonumber(b3)
  end
  local key = base .. 'c:' .. reset .. ':' .. string.format('%d', s)
  local c = redis.call('HMGET', key, 'n', 't')
  return key, e, tonumber(c[1]) or 0, tonumber(c[2]) or 0
end
