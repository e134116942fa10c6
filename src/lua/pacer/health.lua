--[[
  A 5xx, timeout or connection error for one user: is it systemic? Judged on distinct users across
  every worker: the share of users called inside the window whose latest call failed, once the window
  holds a minimum sample. Only a systemic verdict slows the fleet (the health factor `hf`, once per
  cooldown) and turns a Retry-After into the global gate; a failure of a few users only delays their
  own jobs (backoff). Healthy answers are recorded by acquire.lua (they also remove the user here).

  KEYS[1] pacer hash: factor (effective = tf * hf), tf, hf, hcutAt
  KEYS[2] throttle gate: epoch ms until which no call may start
  KEYS[3] health window: sorted set user -> time of the user's latest answered call
  KEYS[4] failing users: sorted set user -> time of the failed call
  KEYS[5] failure run: set of distinct users that failed since the last healthy answer anywhere

  ARGV[1] user
  ARGV[2] window ms
  ARGV[3] share of distinct users failing that is systemic (e.g. 0.5)
  ARGV[4] minimum distinct users in the window before any verdict
  ARGV[5] Retry-After ms carried by the answer, or -1
  ARGV[6] multiplier applied to hf on a systemic verdict (e.g. 0.5)
  ARGV[7] lowest effective factor (e.g. 0.1)
  ARGV[8] cooldown ms between two cuts
  ARGV[9] ms the health window keeps a user (the longest window a judge reads)

  Returns { systemic 0/1, failing users, users in window, factor (effective), gateUntil }

  Two ways to be systemic: the share rule over the window, or a run of failures from at least the
  minimum number of distinct users with no healthy answer in between (acquire.lua clears the run).
  The run catches a full outage within about that many calls, where the window would first have to
  forget the users who succeeded just before it; a flaky minority never makes such a run (8 % of
  users failing: 0.08^20).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local window = tonumber(ARGV[2])
local keep = math.max(window, tonumber(ARGV[9]))

redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZADD', KEYS[4], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - keep)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
redis.call('PEXPIRE', KEYS[3], math.ceil(keep))
redis.call('PEXPIRE', KEYS[4], math.ceil(window))

redis.call('SADD', KEYS[5], ARGV[1])
redis.call('PEXPIRE', KEYS[5], math.ceil(keep))
local run = redis.call('SCARD', KEYS[5])

local sample = redis.call('ZCOUNT', KEYS[3], now - window, '+inf')
local failing = redis.call('ZCARD', KEYS[4])
local systemic = 0
if sample >= tonumber(ARGV[4]) and failing >= tonumber(ARGV[3]) * sample then systemic = 1 end
if run >= tonumber(ARGV[4]) then systemic = 1 end

local state = redis.call('HMGET', KEYS[1], 'factor', 'tf', 'hf', 'hcutAt')
local tf = tonumber(state[2]) or tonumber(state[1]) or 1
local hf = tonumber(state[3]) or 1
local gateUntil = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if systemic == 1 then
  local floor = tonumber(ARGV[7])
  if now - (tonumber(state[4]) or 0) >= tonumber(ARGV[8]) and tf * hf > floor then
    hf = math.max(floor / tf, hf * tonumber(ARGV[6]))
    redis.call('HSET', KEYS[1], 'factor', string.format('%.4f', tf * hf), 'tf', string.format('%.4f', tf),
      'hf', string.format('%.4f', hf), 'hcutAt', string.format('%.0f', now))
  end
  local retryAfter = tonumber(ARGV[5])
  if retryAfter >= 0 then
    local target = math.ceil(now + retryAfter)
    if target > gateUntil then
      gateUntil = target
      redis.call('SET', KEYS[2], string.format('%.0f', target), 'PX', math.ceil(retryAfter) + 1000)
    end
  end
end
if gateUntil < now then gateUntil = 0 end
return { systemic, failing, sample, string.format('%.4f', tf * hf), string.format('%.0f', gateUntil) }
