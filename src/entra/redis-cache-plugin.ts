// MSAL cache persistence for delegated mode: the signed-in account and its refresh token live in Redis,
// encrypted, so any worker process on any host can act for the operator who ran `offboard login`.
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connection.js';
import { decryptCache, encryptCache, TokenCacheUnreadableError } from './cache-crypto.js';
import { TokenAcquisitionError } from './errors.js';

/** Entra drops a refresh token unused for 90 days; a cache older than that is useless. */
const DEFAULT_TTL_MS = 90 * 24 * 60 * 60 * 1000;

const EMPTY_CACHE = JSON.stringify({
  Account: {},
  IdToken: {},
  AccessToken: {},
  RefreshToken: {},
  AppMetadata: {},
});

export interface RedisCachePluginOptions {
  redis: RedisClient;
  /** Full Redis key, `keys.tokenCache(prefix, clientId)`; also bound into the ciphertext. */
  key: string;
  /** 32-byte AES-256-GCM key (TOKEN_CACHE_KEY). */
  encryptionKey: Buffer;
  /** Expiry set on every write. Default 90 days. */
  ttlMs?: number;
  /** `offboard login` starts over when the stored cache cannot be read (e.g. after a key rotation). */
  replaceUnreadable?: boolean;
  logger?: Logger;
}

export function createRedisCachePlugin(opts: RedisCachePluginOptions): ICachePlugin {
  const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
  return {
    async beforeCacheAccess(ctx: TokenCacheContext): Promise<void> {
      const stored = await redisCall('read', () => opts.redis.get(opts.key));
      // Redis is the source of truth: an absent key (signed out, expired) empties this process's copy too.
      if (stored === null) {
        ctx.tokenCache.deserialize(EMPTY_CACHE);
        return;
      }
      let plaintext: string;
      try {
        plaintext = decryptCache(stored, opts.encryptionKey, opts.key);
      } catch (err) {
        if (!(err instanceof TokenCacheUnreadableError) || !opts.replaceUnreadable) throw err;
        opts.logger?.warn(
          { code: err.code },
          'stored token cache unreadable; it will be replaced by this sign-in',
        );
        ctx.tokenCache.deserialize(EMPTY_CACHE);
        return;
      }
      try {
        ctx.tokenCache.deserialize(plaintext);
      } catch {
        throw new TokenCacheUnreadableError('the token cache in Redis decrypted but is not an MSAL cache');
      }
    },
    async afterCacheAccess(ctx: TokenCacheContext): Promise<void> {
      if (!ctx.cacheHasChanged) return;
      const envelope = encryptCache(ctx.tokenCache.serialize(), opts.encryptionKey, opts.key);
      await redisCall('write', () => opts.redis.set(opts.key, envelope, 'PX', ttlMs));
    },
  };
}

async function redisCall<T>(what: 'read' | 'write', fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const name = err instanceof Error ? err.name : 'error';
    throw new TokenAcquisitionError(
      `cannot ${what} the token cache in Redis (${name})`,
      'token_cache_unavailable',
      true,
    );
  }
}
