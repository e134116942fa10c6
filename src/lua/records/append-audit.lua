--[[
  Appends audit entries of one user in one round trip and one command (the worker's success path writes
  an `attempt` and a `retired` entry per job): each entry to the capped audit stream, all of them to the
  user's capped, expiring history list.
  KEYS[1] audit stream, KEYS[2] the user's history list.
  ARGV[1] stream MAXLEN (approximate), ARGV[2] history max length, ARGV[3] history TTL (ms),
  ARGV[4] n, then n stream bodies, then n history bodies.
  Returns n.
]]
local n = tonumber(ARGV[4])
for i = 1, n do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[4 + i])
end
for i = 1, n do
  redis.call('RPUSH', KEYS[2], ARGV[4 + n + i])
end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return n
