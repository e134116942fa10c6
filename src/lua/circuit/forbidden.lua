--[[
  Records a 403 for one user and returns what the circuit judges it on: distinct users with a 403
  inside the sliding window and distinct users called inside it (the health window, which also holds
  every healthy answer), shared by every worker.

  KEYS[1] sorted set user -> time of its last 403
  KEYS[2] circuit key
  KEYS[3] health window: sorted set user -> time of the user's latest answered call
  ARGV[1] user
  ARGV[2] window in ms
  ARGV[3] ms the health window keeps a user (the longest window a judge reads)

  Returns { distinct 403 users in the window, distinct users called in the window, 1 if the circuit
  is already open else 0 }
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
local keep = math.max(window, tonumber(ARGV[3]))
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('PEXPIRE', KEYS[1], window)
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - keep)
redis.call('PEXPIRE', KEYS[3], math.ceil(keep))
return { redis.call('ZCARD', KEYS[1]), redis.call('ZCOUNT', KEYS[3], now - window, '+inf'),
  redis.call('EXISTS', KEYS[2]) }
