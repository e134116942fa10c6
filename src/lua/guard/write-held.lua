-- Checks the caps and commits the staged batch as held in one step, or drops the staging and
-- reports which cap it would pass (src/guard/store.ts).
-- KEYS: batch hash, items list, index, users set, usage hash.
-- ARGV: actor, count, max batches per actor, max items per actor, max items, keepMs, createdAtMs,
-- id, then the hash's field/value pairs.
local actor, c = ARGV[1], tonumber(ARGV[2])
local u = redis.call('HMGET', KEYS[5], 'batches:' .. actor, 'items:' .. actor, 'items')
local nb, ni, nt = tonumber(u[1] or '0'), tonumber(u[2] or '0'), tonumber(u[3] or '0')
local refused
if nb + 1 > tonumber(ARGV[3]) then refused = {'batches_per_key', ARGV[3], tostring(nb)}
elseif ni + c > tonumber(ARGV[4]) then refused = {'items_per_key', ARGV[4], tostring(ni)}
elseif nt + c > tonumber(ARGV[5]) then refused = {'items_total', ARGV[5], tostring(nt)} end
if refused then
  redis.call('DEL', KEYS[2], KEYS[4])
  return refused
end
redis.call('HSET', KEYS[1], unpack(ARGV, 9))
redis.call('HSET', KEYS[1], 'heldBy', actor, 'submitterKey', actor)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[7], ARGV[8])
redis.call('DEL', KEYS[4])
redis.call('HINCRBY', KEYS[5], 'batches:' .. actor, 1)
redis.call('HINCRBY', KEYS[5], 'items:' .. actor, c)
redis.call('HINCRBY', KEYS[5], 'items', c)
return {'ok'}
