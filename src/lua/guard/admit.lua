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
  -- One ZADD per slice of members, not one per user: a 10,000-user batch is 20 calls instead of
  -- 20,000 (the slice stays far below unpack()'s stack limit).
  local stamp = ARGV[1]
  for first = 5, #ARGV, 1000 do
    local args, k = {}, 0
    for i = first, math.min(first + 999, #ARGV) do
      args[k + 1] = stamp
      args[k + 2] = ARGV[i]
      k = k + 2
    end
    redis.call('ZADD', KEYS[1], unpack(args))
    redis.call('ZADD', KEYS[2], unpack(args))
  end
  local ttl = math.ceil(now - since) + 1000
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1, a, t}
