-- held → rejected, or → expired when its time ran out first. Uses release.lua.
-- Like approve.lua, the rejecter names the version it reviewed (ARGV[4]).
-- KEYS: batch hash, usage hash. ARGV: now, actor, reason, version.
-- Returns {'ok'} | {'expired'} | {'missing'} | {'state', state} | {'changed', version, count}.
local f = redis.call('HMGET', KEYS[1], 'state', 'expiresAtMs', 'version', 'count')
if not f[1] then return {'missing'} end
if f[1] ~= 'held' then return {'state', f[1]} end
if tonumber(f[2]) > tonumber(ARGV[1]) and (f[3] or '1') ~= ARGV[4] then return {'changed', f[3] or '1', f[4] or '0'} end
release(KEYS[1], KEYS[2])
if tonumber(f[2]) <= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'state', 'expired', 'decidedBy', 'guard', 'decidedAtMs', f[2])
  return {'expired'}
end
redis.call('HSET', KEYS[1], 'state', 'rejected', 'decidedBy', ARGV[2], 'decidedAtMs', ARGV[1], 'reason', ARGV[3])
return {'ok'}
