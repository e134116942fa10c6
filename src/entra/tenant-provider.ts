// A token provider for one customer tenant (TENANTS_FILE): the same app-mode provider (app.ts), with the
// tenant's authority (`<host>/<tenant id>`) and either the deployment's multi-tenant app and credential
// or the tenant's own app registration. One MSAL client per tenant, so each tenant has its own token
// cache and a tenant's failures (lost consent) never reach another's tokens.
import type { AppCredential, Config } from '../config/load.js';
import type { TenantConfig } from '../config/tenant-config.js';
import { tenantSecret } from '../config/tenants-file.js';
import type { TokenProvider } from '../interfaces.js';
import { type AppProviderDeps, createAppTokenProvider } from './app.js';

function ownCredential(tenant: TenantConfig): AppCredential | undefined {
  const secret = tenantSecret(tenant);
  if (secret) return { kind: 'secret', secret };
  if (tenant.certificatePath) return { kind: 'certificate', path: tenant.certificatePath };
  return undefined;
}

export function createTenantTokenProvider(
  config: Config,
  tenant: TenantConfig,
  deps: AppProviderDeps = {},
): TokenProvider {
  const own = tenant.clientId !== undefined;
  return createAppTokenProvider(
    {
      ...config,
      auth: {
        ...config.auth,
        mode: 'app',
        tenantId: tenant.id,
        clientId: own ? tenant.clientId : config.auth.clientId,
        credential: own ? ownCredential(tenant) : config.auth.credential,
      },
    },
    deps,
  );
}
