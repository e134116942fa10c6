// Failed authentications per client address, counted in Redis so every API replica shares one
// budget: past API_AUTH_FAILURE_LIMIT an address's further failures get 429 until its window ends.
// A valid key is never throttled here (auth/plugin.ts asks only after a key failed), so one bad
// client behind a shared address (an ingress; see API_TRUSTED_PROXIES) cannot lock others out.
// Redis trouble never locks anyone out: the limiter then steps aside, like the request limiter.
import type { RateLimit } from '../../config/parse.js';
import { runScript } from '../../lua/scripts.js';
import type { RedisClient } from '../../redis/connection.js';

export interface AuthFailureLimiter {
  /** Milliseconds until the address may try again, or 0 when it is not blocked. */
  blockedFor(ip: string): Promise<number>;
  /** Counts one failure; returns the milliseconds the address is now blocked for (0 if not). */
  record(ip: string): Promise<number>;
}

export function createAuthFailureLimiter(
  redis: RedisClient,
  keyPrefix: string,
  limit: RateLimit,
): AuthFailureLimiter {
  const keyOf = (ip: string) => `${keyPrefix}:${ip}`;
  const ttl = async (key: string) => Math.max(1, await redis.pttl(key));
  return {
    async blockedFor(ip) {
      try {
        const n = Number((await redis.get(keyOf(ip))) ?? 0);
        return n >= limit.limit ? await ttl(keyOf(ip)) : 0;
      } catch {
        return 0;
      }
    },
    async record(ip) {
      try {
        // A fixed window per address (src/lua/api/auth-failure.lua).
        const n = Number(await runScript(redis, 'api/auth-failure', [keyOf(ip)], [limit.windowMs]));
        return n >= limit.limit ? await ttl(keyOf(ip)) : 0;
      } catch {
        return 0;
      }
    },
  };
}
