// What a caller may see and act on when tenants are configured (TENANTS_FILE): an API key's
// `tenants` (ApiKeyEntry.tenants, carried on the Principal) limits it to those; a key without them
// sees every tenant. Every route that lists or acts on jobs, dead letters, batches, evidence or
// audit entries filters with canSeeTenant; a route that cannot filter refuses scoped keys
// (`tenantAware` in the route config, src/api/auth/plugin.ts): deny by default.
import type { Config } from '../config/load.js';
import type { TenantScope } from '../values/tenant.js';

/** Anything that may carry a tenant scope: a Principal, an ApiKeyEntry. */
export interface ScopedKey {
  tenants?: readonly string[] | undefined;
}

/** The tenants a key is limited to, or 'all'. No key at all (API_AUTH=disabled, the CLI) is 'all'. */
export function keyTenants(key: ScopedKey | undefined | null): TenantScope {
  return key?.tenants && key.tenants.length > 0 ? key.tenants : 'all';
}

/** Whether the key is limited to some tenants. */
export function isScoped(key: ScopedKey | undefined | null): boolean {
  return keyTenants(key) !== 'all';
}

/**
 * Whether a key may see a record of `tenant` (a job's `data.tenant`, a batch's, an audit entry's).
 * A record without a tenant (made before a tenants file, or by the single-tenant path) belongs to
 * no customer a scoped key speaks for: hidden from it.
 */
export function canSeeTenant(key: ScopedKey | undefined | null, tenant: string | undefined): boolean {
  const scope = keyTenants(key);
  if (scope === 'all') return true;
  return tenant !== undefined && scope.includes(tenant);
}

/** The configured tenant names ([] without a tenants file). tcore's registry has the same answer. */
export function configuredTenants(config: Pick<Config, 'tenants'>): string[] {
  return (config.tenants ?? []).map((t) => t.name);
}

/** The tenants a key may see among the configured ones (every one for an unscoped key). */
export function visibleTenants(config: Pick<Config, 'tenants'>, key: ScopedKey | undefined | null): string[] {
  const all = configuredTenants(config);
  const scope = keyTenants(key);
  return scope === 'all' ? all : all.filter((t) => scope.includes(t));
}
