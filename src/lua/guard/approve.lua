-- held → approving (or resume an approval whose lease lapsed). Expiry is checked in the same step.
-- The two-person rule compares normalised names (ARGV[5] and the stored submitterKey; batches
-- written before it existed fall back to the lower-cased submitter). Uses release.lua.
-- KEYS: batch hash, usage hash. ARGV: now, actor, two-person (1/0), lease ms, normalised actor.
-- Returns {'ok'} | {'resume'} | {'expired'} | {'missing'} | {'two_person'} | {'state', state}.
local f = redis.call('HMGET', KEYS[1], 'state', 'submittedBy', 'expiresAtMs', 'leaseUntil', 'submitterKey')
local state = f[1]
if not state then return {'missing'} end
local now = tonumber(ARGV[1])
if state == 'held' then
  if tonumber(f[3]) <= now then
    redis.call('HSET', KEYS[1], 'state', 'expired', 'decidedBy', 'guard', 'decidedAtMs', f[3])
    release(KEYS[1], KEYS[2])
    return {'expired'}
  end
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
