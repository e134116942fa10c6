-- held → expired once its time has come (GUARD_TTL). Uses release.lua.
-- KEYS: batch hash, usage hash. ARGV: now. Returns 1 when it expired the batch, else 0.
local f = redis.call('HMGET', KEYS[1], 'state', 'expiresAtMs')
if f[1] ~= 'held' or tonumber(f[2]) > tonumber(ARGV[1]) then return 0 end
release(KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'state', 'expired', 'decidedBy', 'guard', 'decidedAtMs', f[2])
return 1
