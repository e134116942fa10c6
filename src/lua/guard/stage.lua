-- Stages one chunk of a bulk submission (src/guard/staging.ts).
-- KEYS: users set, items list. ARGV: ttl ms, keep (1/0), then user, item JSON pairs.
-- SADD decides first occurrence; only first occurrences are appended to the list (when keep=1).
-- Returns, per pair, 1 for a first occurrence and 0 for a repeat.
local ttl = ARGV[1]
local keep = ARGV[2] == '1'
local out = {}
for i = 3, #ARGV, 2 do
  local added = redis.call('SADD', KEYS[1], ARGV[i])
  if added == 1 and keep then redis.call('RPUSH', KEYS[2], ARGV[i + 1]) end
  out[#out + 1] = added
end
redis.call('PEXPIRE', KEYS[1], ttl)
if keep then redis.call('PEXPIRE', KEYS[2], ttl) end
return out
