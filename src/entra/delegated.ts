// Delegated mode: an operator signs in once with the device-code flow (`offboard login`); workers then
// renew tokens silently from the encrypted MSAL cache in Redis, acting as that operator.
import {
  type AccountInfo,
  type DeviceCodeRequest,
  PublicClientApplication,
  ServerError,
} from '@azure/msal-node';
import type { Config } from '../config/load.js';
import type { TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';
import { authorityOptions, delegatedScopes } from './authority.js';
import { LoginRequiredError, TokenAcquisitionError } from './errors.js';
import { TrackedHttpClient } from './http-client.js';
import { withTokenErrors } from './map-error.js';
import { msalLoggerOptions } from './msal-logger.js';
import { createRedisCachePlugin } from './redis-cache-plugin.js';
import { createSingleFlight } from './single-flight.js';

export interface DelegatedDeps {
  redis: RedisClient;
  logger?: Logger;
  /** Timeout for each request to the authority. Default 30 s. */
  httpTimeoutMs?: number;
}

export interface LoginOptions {
  /** Receives Entra's instruction ("To sign in, use a web browser to open … and enter the code …"). */
  onCode(message: string): void;
  /** Give up polling after this many seconds. Default: when the device code expires (about 15 min). */
  timeoutSeconds?: number;
}

function buildClient(config: Config, deps: DelegatedDeps, replaceUnreadable: boolean) {
  const { clientId, tenantId, tokenCacheKey } = config.auth;
  if (!clientId || !tenantId || !tokenCacheKey) {
    throw new TokenAcquisitionError(
      'delegated mode needs AZURE_TENANT_ID, AZURE_CLIENT_ID and TOKEN_CACHE_KEY',
      'not_configured',
      false,
    );
  }
  const http = new TrackedHttpClient({ timeoutMs: deps.httpTimeoutMs });
  const cachePlugin = createRedisCachePlugin({
    redis: deps.redis,
    key: keys.tokenCache(config.redis.prefix, clientId),
    encryptionKey: tokenCacheKey,
    replaceUnreadable,
    logger: deps.logger,
  });
  const pca = new PublicClientApplication({
    auth: { clientId, ...authorityOptions(config.auth) },
    cache: { cachePlugin },
    system: { loggerOptions: msalLoggerOptions(deps.logger), networkClient: http },
  });
  return { pca, http };
}

export function createDelegatedTokenProvider(config: Config, deps: DelegatedDeps): TokenProvider {
  const { pca, http } = buildClient(config, deps, false);
  const scopes = delegatedScopes(config);

  const flight = createSingleFlight((forced) =>
    withTokenErrors({ http, logger: deps.logger }, async () => {
      // Reads the cache from Redis: another process may have signed in again or renewed the tokens.
      const account = pickAccount(await pca.getAllAccounts());
      if (!account) throw new LoginRequiredError();
      const result = await pca.acquireTokenSilent({ account, scopes, forceRefresh: forced });
      if (!result?.accessToken) {
        throw new TokenAcquisitionError(
          'the token endpoint returned no access token',
          'invalid_response',
          false,
        );
      }
      return result.accessToken;
    }),
  );

  return {
    getToken: (opts = {}) => flight.run(opts.forceRefresh === true),
    // clearCache drops MSAL's throttling entries too; a delegated cache reloads from Redis on next use.
    reset: () => pca.clearCache(),
    async close() {
      pca.clearCache();
    },
  };
}

/**
 * Device-code sign-in. Stores the encrypted cache in Redis (replacing any previous account, and a
 * cache left unreadable by a key rotation) and returns the signed-in username.
 */
export async function login(config: Config, deps: DelegatedDeps, opts: LoginOptions): Promise<string> {
  const { pca, http } = buildClient(config, deps, true);
  const request: DeviceCodeRequest = {
    scopes: delegatedScopes(config),
    deviceCodeCallback: (response) => {
      // MSAL does not check the device-code answer (after a 5xx it would poll with no code at all):
      // throwing here ends the flow with what the endpoint actually said.
      if (!response.deviceCode || !response.message) {
        const answer = http.lastAnswer;
        throw new ServerError(
          answer?.error ?? 'device_code_unavailable',
          '',
          `the device-code endpoint issued no code (HTTP ${answer?.status ?? 'unknown'})`,
          undefined,
          undefined,
          answer?.status,
        );
      }
      opts.onCode(response.message);
    },
    timeout: opts.timeoutSeconds,
  };
  const result = await withTokenErrors({ http, logger: deps.logger }, () =>
    pca.acquireTokenByDeviceCode(request),
  );
  const account = result?.account;
  if (!account) {
    throw new TokenAcquisitionError(
      'sign-in completed without an account (no id token?)',
      'invalid_response',
      false,
    );
  }
  // Workers act for exactly one operator: drop accounts left by earlier sign-ins.
  await withTokenErrors({ http, logger: deps.logger }, async () => {
    const cache = pca.getTokenCache();
    for (const other of await cache.getAllAccounts()) {
      if (other.homeAccountId !== account.homeAccountId) await cache.removeAccount(other);
    }
  });
  return account.username;
}

function pickAccount(accounts: AccountInfo[]): AccountInfo | undefined {
  return accounts[0];
}
