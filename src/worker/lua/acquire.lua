--[[
  Shared pacer: may a Graph call start now? GCRA (theoretical arrival time) with no burst, plus the
  global Retry-After gate and the circuit hold. Redis TIME is the one clock for every process.

  KEYS[1] pacer hash: tat (ms, fractional), factor (0..1)
  KEYS[2] throttle gate: epoch ms until which no call may start
  KEYS[3] hold key (the circuit); checked only when ARGV[5] == '1'

  ARGV[1] interval in ms at factor 1 (window / (limit * headroom))
  ARGV[2] successes to credit to the factor since the last call
  ARGV[3] factor step per success
  ARGV[4] catch-up: fraction of an interval a late caller may keep the grid by
  ARGV[5] '1' to honour the hold key

  Returns { wait, factor }: wait 0 = go now (a slot was taken), > 0 = ms to wait, -1 = held.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000

if ARGV[5] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then
  return { -1, '' }
end

local state = redis.call('HMGET', KEYS[1], 'tat', 'factor')
local tat = tonumber(state[1]) or 0
local factor = tonumber(state[2]) or 1
local credit = tonumber(ARGV[2]) or 0
if credit > 0 and factor < 1 then
  factor = math.min(1, factor + credit * tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'factor', string.format('%.4f', factor))
end

local gate = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if now < gate then
  return { math.ceil(gate - now), string.format('%.4f', factor) }
end
if now < tat then
  return { math.ceil(tat - now), string.format('%.4f', factor) }
end

-- A caller that arrives a little late keeps the grid (no drift from timer lateness); one that
-- arrives much later starts a new grid at now, so idle time never turns into a burst.
local interval = tonumber(ARGV[1]) / factor
local base = math.max(tat, now - interval * tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', base + interval))
return { 0, string.format('%.4f', factor) }
