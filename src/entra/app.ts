// App mode: client credentials with a secret, a certificate, or a Kubernetes workload-identity token.
// MSAL's in-memory cache keeps the token and renews it five minutes before expiry; we add the
// single-flight MSAL lacks and a classification of failures.
import { readFile } from 'node:fs/promises';
import {
  type ClientAssertionCallback,
  ConfidentialClientApplication,
  type NodeAuthOptions,
} from '@azure/msal-node';
import type { AppCredential, Config } from '../config/load.js';
import type { TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import { appScopes, authorityOptions } from './authority.js';
import { loadClientCertificate } from './certificate.js';
import { TokenAcquisitionError } from './errors.js';
import { TrackedHttpClient } from './http-client.js';
import { withTokenErrors } from './map-error.js';
import { msalLoggerOptions } from './msal-logger.js';
import { createSingleFlight } from './single-flight.js';

export interface AppProviderDeps {
  logger?: Logger;
  /** Timeout for each request to the authority. Default 30 s. */
  httpTimeoutMs?: number;
}

type CredentialOptions = Pick<NodeAuthOptions, 'clientSecret' | 'clientCertificate' | 'clientAssertion'>;

interface BuiltCredential {
  options: CredentialOptions;
  /** Current secret material, scrubbed from every message and log line. */
  secrets(): readonly string[];
}

/** MSAL renews a cached token this long before it expires (its default refresh window). */
const RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;

export function createAppTokenProvider(config: Config, deps: AppProviderDeps = {}): TokenProvider {
  const { clientId, credential } = config.auth;
  if (!clientId || !config.auth.tenantId || !credential) {
    throw new TokenAcquisitionError(
      'app mode needs AZURE_TENANT_ID, AZURE_CLIENT_ID and one credential',
      'not_configured',
      false,
    );
  }
  const built = buildCredential(credential);
  const http = new TrackedHttpClient({ timeoutMs: deps.httpTimeoutMs });
  const cca = new ConfidentialClientApplication({
    auth: { clientId, ...authorityOptions(config.auth), ...built.options },
    system: { loggerOptions: msalLoggerOptions(deps.logger, built.secrets), networkClient: http },
  });
  const scopes = appScopes(config);

  // MSAL's cache lookup does filtering, telemetry and logging on every call, and it showed in the
  // worker's profile at hundreds of jobs per second. The token is kept here until MSAL's own renewal
  // window (5 min before expiry), then MSAL is asked again.
  let memo: { token: string; renewAt: number } | undefined;
  const flight = createSingleFlight((forced) =>
    withTokenErrors({ http, secrets: built.secrets, logger: deps.logger }, async () => {
      // skipCache: a forced refresh (after a 401 from Graph) must not get the rejected token back.
      const result = await cca.acquireTokenByClientCredential({ scopes, skipCache: forced });
      if (!result?.accessToken) {
        throw new TokenAcquisitionError(
          'the token endpoint returned no access token',
          'invalid_response',
          false,
        );
      }
      const expiresAt = result.expiresOn?.getTime() ?? 0;
      memo = { token: result.accessToken, renewAt: expiresAt - RENEW_BEFORE_EXPIRY_MS };
      return result.accessToken;
    }),
  );

  return {
    getToken: (opts = {}) => {
      const forced = opts.forceRefresh === true;
      if (forced) memo = undefined;
      else if (memo && Date.now() < memo.renewAt) return Promise.resolve(memo.token);
      return flight.run(forced);
    },
    // clearCache drops MSAL's throttling entries too; a delegated cache reloads from Redis on next use.
    reset: () => {
      memo = undefined;
      cca.clearCache();
    },
    async close() {
      cca.clearCache();
    },
  };
}

export function buildCredential(credential: AppCredential): BuiltCredential {
  switch (credential.kind) {
    case 'secret':
      return { options: { clientSecret: credential.secret }, secrets: () => [credential.secret] };
    case 'certificate': {
      const cert = loadClientCertificate(credential.path, credential.password);
      const secrets = [cert.privateKey, ...(credential.password ? [credential.password] : [])];
      return { options: { clientCertificate: cert }, secrets: () => secrets };
    }
    case 'federated': {
      let last = '';
      // The projected token is rotated by the kubelet (about hourly): read it at every acquisition.
      const assertion: ClientAssertionCallback = async () => {
        last = await readFederatedToken(credential.tokenFile);
        return last;
      };
      return { options: { clientAssertion: assertion }, secrets: () => (last ? [last] : []) };
    }
  }
}

async function readFederatedToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TokenAcquisitionError(
      `AZURE_FEDERATED_TOKEN_FILE ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'federated_token_unreadable',
      false,
    );
  }
  const token = text.trim();
  if (!token) {
    throw new TokenAcquisitionError(
      `AZURE_FEDERATED_TOKEN_FILE ${path}: the file is empty`,
      'federated_token_unreadable',
      false,
    );
  }
  return token;
}
