-- The guard's count of devices wiped or deleted (src/guard/wipe-hold.ts): within GUARD_WINDOW at most
-- GUARD_WIPE_THRESHOLD distinct devices are admitted for a wipe or a delete without an approval. A
-- device counts once however often its job is retried; the check and the reservation are one step,
-- so two workers planning at once cannot both pass the limit.
-- KEYS: the window (sorted set: device id -> when it was admitted).
-- ARGV: now, window ms, threshold, device ids...
-- Returns {'ok', admitted in window} or {'hold', admitted in window, new devices}.
local now, win, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - win))
local fresh = {}
for i = 4, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then table.insert(fresh, ARGV[i]) end
end
local have = redis.call('ZCARD', KEYS[1])
if #fresh == 0 then return {'ok', have} end
if have + #fresh > limit then return {'hold', have, #fresh} end
for _, id in ipairs(fresh) do redis.call('ZADD', KEYS[1], now, id) end
redis.call('PEXPIRE', KEYS[1], win + 1000)
return {'ok', have + #fresh}
