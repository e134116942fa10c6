--[[
  One tenant's virtual clock: hands out turns at the tenant's pace to jobs that cannot send now, so
  they wait in BullMQ's delayed set (no worker slot held) and wake one interval apart instead of all
  at once. The pacer stays the authority when a job wakes; the clock only spreads the wake-ups.
  next = max(now + wait, clock); clock = next + count * interval. Expires once the turns are past, so
  an idle tenant leaves no key.

  KEYS[1] the tenant's clock (epoch ms of its next free turn)
  ARGV[1] ms until the tenant could send at the earliest (the pacer's or the gate's wait)
  ARGV[2] interval between turns in ms (window / (limit * headroom))
  ARGV[3] turns wanted (jobs), at least 1

  Returns the first turn (epoch ms); the others follow one interval apart.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local earliest = now + tonumber(ARGV[1])
local clock = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local first = math.max(earliest, clock)
local after = first + tonumber(ARGV[3]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', math.ceil(after - now) + 1000)
return string.format('%.0f', first)
