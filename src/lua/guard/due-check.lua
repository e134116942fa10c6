-- The worker's re-check when a retire job becomes due (src/guard/due.ts): at most `threshold` jobs
-- not released by an approval start retiring within any window. A job counts once, however often it
-- is retried or put back.
-- KEYS: retiring set (job id -> when it started), the job's batch hash (or any key when it has none).
-- ARGV: now, window ms, threshold, job id, from a batch (1/0), may hold (1/0: a job admitted for
-- its own moment just now is counted but not held).
-- Returns 'approved' (released by an approval: not counted), 'ok' (counted, may retire) or 'hold'.
local now, win, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[5] == '1' then
  local state = redis.call('HGET', KEYS[2], 'state')
  if state == 'approved' or state == 'approving' then return 'approved' end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - win))
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 'ok' end
if ARGV[6] == '1' and redis.call('ZCARD', KEYS[1]) + 1 > limit then return 'hold' end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], win + 1000)
return 'ok'
