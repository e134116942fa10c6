// TENANTS_FILE in the configuration (loaded by tenants-file.ts): read even when other variables are invalid, so its problems are
// reported together with theirs (one ConfigError, exit 2). Also the rules that tie the file to the
// environment: which app registration signs in, and the API keys' tenant scopes.

import type { DevicePolicy } from '../device-policy/types.js';
import type { ApiKeyEntry } from './api-keys.js';
import type { LoadOptions } from './schema.js';
import type { TenantConfig } from './tenant-config.js';
import { readTenants } from './tenants-file.js';

type Env = Record<string, string | undefined>;

/** What of the loaded Config the rules read (a structural type: load.ts imports this file). */
interface LoadedConfig {
  api: { keys: ApiKeyEntry[] };
  auth: { mode: string; clientId?: string; credential?: unknown };
  devicePolicy?: DevicePolicy;
}

/** The tenants, or undefined without a file; problems are appended to `problems`. */
export function tenantsFromEnv(
  env: Env,
  config: LoadedConfig | undefined,
  opts: LoadOptions,
  problems: string[],
): TenantConfig[] | undefined {
  const path = env.TENANTS_FILE;
  if (path === undefined || path === '') {
    // A key scoped to tenants names something that does not exist without a file.
    for (const key of config?.api.keys ?? []) {
      if (key.tenants)
        problems.push(
          `API key "${key.name}": scoped to tenants (${key.tenants.join('|')}) but TENANTS_FILE is not set`,
        );
    }
    return undefined;
  }
  const tenants = readTenants(path, problems, {
    env,
    ...(config?.devicePolicy ? { devicePolicy: config.devicePolicy } : {}),
    ...(config ? { apiKeys: config.api.keys } : {}),
  });
  if (!config) return tenants;
  if (config.auth.mode !== 'app') problems.push('TENANTS_FILE: needs AUTH_MODE=app (one token per tenant)');
  // Tenants without their own app registration sign in with the deployment's multi-tenant app.
  const shared = tenants.filter((t) => t.clientId === undefined).map((t) => t.name);
  if (opts.needAuth && shared.length > 0 && (!config.auth.clientId || !config.auth.credential)) {
    problems.push(
      `TENANTS_FILE: tenants ${shared.join(', ')} use the deployment's app: AZURE_CLIENT_ID and one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE are required`,
    );
  }
  return tenants;
}
