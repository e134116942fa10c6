// The one entry point workers use: a TokenProvider for the configured AUTH_MODE.
import type { Config } from '../config/load.js';
import type { TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connection.js';
import { createAppTokenProvider } from './app.js';
import { createDelegatedTokenProvider } from './delegated.js';

export interface TokenProviderDeps {
  /** Holds the encrypted token cache in delegated mode (unused in app mode). Owned by the caller. */
  redis: RedisClient;
  logger?: Logger;
  /** Timeout for each request to the authority. Default 30 s. */
  httpTimeoutMs?: number;
}

/**
 * Builds the provider for `config.auth.mode`. Throws TokenAcquisitionError at once for what can be
 * checked up front (missing settings, an unreadable certificate), so a worker fails at start.
 */
export function createTokenProvider(config: Config, deps: TokenProviderDeps): TokenProvider {
  return config.auth.mode === 'delegated'
    ? createDelegatedTokenProvider(config, deps)
    : createAppTokenProvider(config, { logger: deps.logger, httpTimeoutMs: deps.httpTimeoutMs });
}
