// The seam between operators' tools (preflight) and per-tenant token providers: a tenant's tokens
// come from the deployment's app against the tenant's authority (`<host>/<tenant id>`), with the
// deployment's credential. tcore's per-tenant providers (own app registrations) replace this.
import { createAppTokenProvider } from '../entra/app.js';
import type { TokenProviderFor } from './preflight.js';

// App mode always: a tenant's tokens are the app's own (client credentials), never a person's.
export const tokenProviderFor: TokenProviderFor = (config, tenant, deps) =>
  createAppTokenProvider(
    { ...config, auth: { ...config.auth, mode: 'app', tenantId: tenant.id } },
    deps.logger ? { logger: deps.logger } : {},
  );
