--[[
  A 429 reached a worker: close the gate for every process (Retry-After) and slow the shared pace
  down (the 429 factor `tf`). Also used for a systemic 5xx with Retry-After (gate only, ARGV[2] = 1).
  Atomic, so concurrent reports keep the latest gate and cut the pace once per episode.

  KEYS[1] pacer hash: factor (effective = tf * hf), tf, hf, cutAt
  KEYS[2] throttle gate: epoch ms (string) until which no call may start

  ARGV[1] Retry-After in ms, or -1 when the answer carried none
  ARGV[2] multiplier applied to the 429 factor (e.g. 0.7); 1 = do not slow down
  ARGV[3] lowest factor (e.g. 0.1)
  ARGV[4] cooldown ms: reports within it of the last cut belong to the same episode

  Returns { gateUntil (ms, 0 if none), factor (effective) }
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000

local gateUntil = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local retryAfter = tonumber(ARGV[1])
if retryAfter >= 0 then
  local target = math.ceil(now + retryAfter)
  if target > gateUntil then
    gateUntil = target
    redis.call('SET', KEYS[2], string.format('%.0f', target), 'PX', math.ceil(retryAfter) + 1000)
  end
end

local state = redis.call('HMGET', KEYS[1], 'factor', 'cutAt', 'tf', 'hf')
local tf = tonumber(state[3]) or tonumber(state[1]) or 1
local hf = tonumber(state[4]) or 1
local cutAt = tonumber(state[2]) or 0
local mult = tonumber(ARGV[2])
local floor = tonumber(ARGV[3])
if mult < 1 and now - cutAt >= tonumber(ARGV[4]) then
  tf = math.max(floor, tf * mult)
  if tf * hf < floor then hf = floor / tf end
  redis.call('HSET', KEYS[1], 'factor', string.format('%.4f', tf * hf), 'tf', string.format('%.4f', tf),
    'hf', string.format('%.4f', hf), 'cutAt', string.format('%.0f', now))
end
if gateUntil < now then gateUntil = 0 end
return { string.format('%.0f', gateUntil), string.format('%.4f', tf * hf) }
