// The seam between operators' tools (preflight) and per-tenant token providers: the tenant's own
// provider (src/entra/tenant-provider.ts): the deployment's multi-tenant app against the tenant's
// authority, or the tenant's own app registration and credential from the tenants file.
import { createTenantTokenProvider } from '../entra/tenant-provider.js';
import type { TokenProviderFor } from './preflight.js';

export const tokenProviderFor: TokenProviderFor = (config, tenant, deps) =>
  createTenantTokenProvider(config, tenant, deps.logger ? { logger: deps.logger } : {});
