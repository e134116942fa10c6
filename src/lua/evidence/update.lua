-- Compare-and-set of one evidence record (src/evidence/store.ts updateVerification). The JSON is
-- rebuilt in TypeScript (cjson would turn empty arrays into objects), so the script only checks
-- that nobody wrote the record since it was read, then writes it and moves the job between the
-- verification-state indexes in the same step: a concurrent verify run loses no write.
-- KEYS: record, pending index, verified index, unverified index.
-- ARGV: sha1 of the value read, new JSON, retention ms, job id, new state, index score, prune below.
-- Returns 1 written, 0 conflict (read again and retry), -1 record gone (expired or never saved).
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if redis.sha1hex(current) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
local slot = { pending = 2, verified = 3, unverified = 4 }
for i = 2, 4 do
  redis.call('ZREM', KEYS[i], ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[7])
end
local target = slot[ARGV[5]]
if target then redis.call('ZADD', KEYS[target], ARGV[6], ARGV[4]) end
return 1
