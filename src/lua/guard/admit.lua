-- The guard's rolling window (src/guard/window.ts): check and reserve in one step, so two
-- submissions racing cannot both fit.
-- KEYS: actor set, total set. ARGV: now, window start, threshold, reserve (1/0), users…
-- Returns {admitted, actorCount, totalCount} where the counts include the submitted users.
local now, since, limit, reserve = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. since)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. since)
local newActor, newTotal = 0, 0
for i = 5, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then newActor = newActor + 1 end
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then newTotal = newTotal + 1 end
end
local a = redis.call('ZCARD', KEYS[1]) + newActor
local t = redis.call('ZCARD', KEYS[2]) + newTotal
if a > limit or t > limit then return {0, a, t} end
if reserve == '1' then
  for i = 5, #ARGV do
    redis.call('ZADD', KEYS[1], now, ARGV[i])
    redis.call('ZADD', KEYS[2], now, ARGV[i])
  end
  local ttl = math.ceil(now - since) + 1000
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1, a, t}
