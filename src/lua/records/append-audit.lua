--[[
  Appends audit entries of one user in one round trip and one command (the worker's success path writes
  an `attempt` and a `retired` entry per job): each entry to the capped audit stream, all of them to the
  user's capped, expiring history list. Each entry is sent once, serialised without its user (the
  history key names the user); the stream copy gets the user put back in front here, which halves what
  the worker writes to the socket.
  KEYS[1] audit stream, KEYS[2] the user's history list.
  ARGV[1] stream MAXLEN (approximate), ARGV[2] history max length, ARGV[3] history TTL (ms),
  ARGV[4] the user as a JSON string (quoted), then the entries as JSON objects without `user`.
  Returns the number of entries.
]]
local head = '{"user":' .. ARGV[4] .. ','
for i = 5, #ARGV do
  local body = ARGV[i]
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', head .. string.sub(body, 2))
  redis.call('RPUSH', KEYS[2], body)
end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return #ARGV - 4
