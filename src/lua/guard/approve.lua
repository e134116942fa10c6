-- held → approving (or resume an approval whose lease lapsed). Expiry is checked in the same step.
-- The two-person rule compares normalised names (ARGV[5] and the stored submitterKey; batches
-- written before it existed fall back to the lower-cased submitter). Uses release.lua.
-- The approver names the version it reviewed (ARGV[6]); a batch that took items since answers
-- {'changed', version, count} and stays held, so an approval never releases a user it was not shown.
-- KEYS: batch hash, usage hash. ARGV: now, actor, two-person (1/0), lease ms, normalised actor, version.
-- Returns {'ok'} | {'resume'} | {'expired'} | {'missing'} | {'two_person'} | {'state', state}
-- | {'changed', version, count}.
local f = redis.call('HMGET', KEYS[1], 'state', 'submittedBy', 'expiresAtMs', 'leaseUntil', 'submitterKey',
  'version', 'count')
local state = f[1]
if not state then return {'missing'} end
local now = tonumber(ARGV[1])
if state == 'held' then
  if tonumber(f[3]) <= now then
    redis.call('HSET', KEYS[1], 'state', 'expired', 'decidedBy', 'guard', 'decidedAtMs', f[3])
    release(KEYS[1], KEYS[2])
    return {'expired'}
  end
  local version = f[6] or '1'
  if version ~= ARGV[6] then return {'changed', version, f[7] or '0'} end
  local submitter = f[5] or string.lower(f[2] or '')
  if ARGV[3] == '1' and ARGV[5] == submitter then return {'two_person'} end
  release(KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'state', 'approving', 'decidedBy', ARGV[2], 'decidedAtMs', ARGV[1],
    'leaseUntil', tostring(now + tonumber(ARGV[4])), 'enqueued', '0')
  return {'ok'}
end
if state == 'approving' and tonumber(f[4] or '0') <= now then
  redis.call('HSET', KEYS[1], 'leaseUntil', tostring(now + tonumber(ARGV[4])))
  return {'resume'}
end
return {'state', state}
