-- Counts one failed authentication of a client address (src/api/auth/failures.ts): INCR with the
-- window set on the first failure only (a fixed window per address).
-- KEYS: the address's counter. ARGV: window ms. Returns the count.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
