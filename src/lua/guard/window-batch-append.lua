-- Adds one request to the actor's open window batch (src/guard/window-batch.ts).
-- KEYS: batch hash, items list, window users set, usage hash. ARGV: now, actor key, user, item JSON,
-- max items per actor, max items in total, sample size.
-- Returns {'ok'} | {'duplicate'} | {'closed'} | {scope, limit, current}.
local f = redis.call('HMGET', KEYS[1], 'state', 'expiresAtMs', 'heldBy', 'sample', 'count')
if f[1] ~= 'held' or tonumber(f[2] or '0') <= tonumber(ARGV[1]) or f[3] ~= ARGV[2] then return {'closed'} end
if redis.call('SADD', KEYS[3], ARGV[3]) == 0 then return {'duplicate'} end
local u = redis.call('HMGET', KEYS[4], 'items:' .. ARGV[2], 'items')
local ni, nt = tonumber(u[1] or '0'), tonumber(u[2] or '0')
local refused
if ni + 1 > tonumber(ARGV[5]) then refused = {'items_per_key', ARGV[5], tostring(ni)}
elseif nt + 1 > tonumber(ARGV[6]) then refused = {'items_total', ARGV[6], tostring(nt)} end
if refused then
  redis.call('SREM', KEYS[3], ARGV[3])
  return refused
end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('HINCRBY', KEYS[1], 'count', 1)
-- Every change of what an approval would release is a new version (approve.lua compares it).
redis.call('HSET', KEYS[1], 'version', tostring(tonumber(redis.call('HGET', KEYS[1], 'version') or '1') + 1))
local sample = cjson.decode(f[4] or '[]')
if #sample < tonumber(ARGV[7]) then
  table.insert(sample, ARGV[3])
  redis.call('HSET', KEYS[1], 'sample', cjson.encode(sample))
end
redis.call('PEXPIRE', KEYS[3], redis.call('PTTL', KEYS[1]))
redis.call('HINCRBY', KEYS[4], 'items:' .. ARGV[2], 1)
redis.call('HINCRBY', KEYS[4], 'items', 1)
return {'ok'}
