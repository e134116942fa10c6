--[[
  Records a 403 for one user and says whether 403s have become systemic: distinct users inside the
  sliding window, shared by every worker.

  KEYS[1] sorted set user -> time of its last 403
  KEYS[2] circuit key
  ARGV[1] user
  ARGV[2] window in ms

  Returns { distinct users in the window, 1 if the circuit is already open else 0 }
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('PEXPIRE', KEYS[1], window)
return { redis.call('ZCARD', KEYS[1]), redis.call('EXISTS', KEYS[2]) }
