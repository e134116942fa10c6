-- Compare-and-set of a pending retire job's data to add a Lifecycle Workflows callback
-- (src/intake/attach-callback.ts). The JSON is rebuilt in TypeScript; the script only checks that the
-- job still exists, has not finished, is not held by a worker (its data was read when it became
-- active, so a later write would be lost) and that nobody wrote the data since it was read.
-- KEYS: the job hash, the queue's active list.
-- ARGV: sha1 of the data read, new data JSON, job id.
-- Returns 1 written, 0 conflict (read again and retry), -1 job gone, -2 finished, -3 running.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HEXISTS', KEYS[1], 'finishedOn') == 1 then return -2 end
if redis.call('LPOS', KEYS[2], ARGV[3]) then return -3 end
local current = redis.call('HGET', KEYS[1], 'data')
if not current or redis.sha1hex(current) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
return 1
