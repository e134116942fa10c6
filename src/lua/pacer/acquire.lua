--[[
  Shared pacer: may Graph calls start now, and how many? GCRA (theoretical arrival time) with no
  burst, plus the global Retry-After gate and the circuit hold. Redis TIME is the one clock for every
  process. Also takes the healthy answers the process saw since its last acquire (no extra round
  trip): they regain the pace and count in the failure window (health.lua) as calls that went well.

  KEYS[1] pacer hash: tat (ms, fractional), factor (effective, what status pages read), tf (429
          factor), hf (health factor: systemic 5xx/timeouts)
  KEYS[2] throttle gate: epoch ms until which no call may start
  KEYS[3] hold key (the circuit); checked only when ARGV[5] == '1'
  KEYS[4] health window: sorted set user -> time of the user's latest answered call
  KEYS[5] failing users: sorted set user -> time of a failed latest call
  KEYS[6] failure run (health.lua): cleared by any healthy answer

  ARGV[1] interval in ms at factor 1 (window / (limit * headroom))
  ARGV[2] healthy answers to credit since the last call
  ARGV[3] 429 factor step per healthy answer (additive: back up slowly after a 429)
  ARGV[4] catch-up: fraction of an interval a late caller may keep the grid by
  ARGV[5] '1' to honour the hold key
  ARGV[6] slots wanted (local waiters); only slots already due are granted, never a burst
  ARGV[7] health recovery multiplier per healthy answer (e.g. 1.25: quick recovery after an outage)
  ARGV[8] ms the health window keeps a user (the longest window a judge reads)
  ARGV[9] ms the pacer hash lives after its last grant ('0': for ever; tenants' pacers expire when
          idle so an idle tenant leaves no keys)
  ARGV[10] reserve ahead, ms: a caller whose slot is due within this takes it now and sleeps until
           then ('0': never). The grid moves by one interval whatever the sleeper's timer lateness,
           where a caller that sleeps and asks again would push it back by that lateness every time.
  ARGV[11..] users whose latest call got a healthy answer

  Returns { wait, factor, granted }: wait 0 = `granted` slots taken, go now; > 0 with granted 1 = a
  slot reserved, go in `wait` ms; > 0 with granted 0 = ms to wait before asking again; -1 = held.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000

if #ARGV > 10 then
  local zargs = {}
  local users = {}
  for i = 11, #ARGV do
    zargs[#zargs + 1] = now
    zargs[#zargs + 1] = ARGV[i]
    users[#users + 1] = ARGV[i]
  end
  redis.call('ZADD', KEYS[4], unpack(zargs))
  redis.call('ZREM', KEYS[5], unpack(users))
  -- A healthy answer anywhere ends the run of consecutive failures (health.lua).
  redis.call('DEL', KEYS[6])
  local keep = tonumber(ARGV[8])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - keep)
  redis.call('PEXPIRE', KEYS[4], math.ceil(keep))
end

if ARGV[5] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then
  return { -1, '', 0 }
end

local state = redis.call('HMGET', KEYS[1], 'tat', 'factor', 'tf', 'hf')
local tat = tonumber(state[1]) or 0
local tf = tonumber(state[3]) or tonumber(state[2]) or 1
local hf = tonumber(state[4]) or 1
local factor = tf * hf
local credit = tonumber(ARGV[2]) or 0
if credit > 0 and factor < 1 then
  tf = math.min(1, tf + credit * tonumber(ARGV[3]))
  hf = math.min(1, hf * tonumber(ARGV[7]) ^ credit)
  factor = tf * hf
  redis.call('HSET', KEYS[1], 'factor', string.format('%.4f', factor), 'tf', string.format('%.4f', tf),
    'hf', string.format('%.4f', hf))
end
local shown = string.format('%.4f', factor)

local gate = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if now < gate then
  return { math.ceil(gate - now), shown, 0 }
end
local interval = tonumber(ARGV[1]) / factor
local ttl = tonumber(ARGV[9]) or 0
if now < tat then
  if tat - now <= (tonumber(ARGV[10]) or 0) then
    redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', tat + interval))
    if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
    return { math.ceil(tat - now), shown, 1 }
  end
  return { math.ceil(tat - now), shown, 0 }
end

-- A caller that arrives a little late keeps the grid (no drift from timer lateness); one that
-- arrives much later starts a new grid at now, so idle time never turns into a burst. Several
-- slots are granted at once only when the grid has them due within 2 ms (a pace far above the
-- call rate): one round trip then serves several local waiters.
local base = math.max(tat, now - interval * tonumber(ARGV[4]))
local want = math.max(1, tonumber(ARGV[6]) or 1)
-- Slots due within 2 ms count as due now: only a pace of more than 500 calls/s batches at all.
local due = math.floor((now + 2 - base) / interval) + 1
local granted = math.max(1, math.min(want, due))
redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', base + granted * interval))
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return { 0, shown, granted }
