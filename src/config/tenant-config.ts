// One customer tenant of a multi-tenant deployment (TENANTS_FILE), as loaded and validated
// (tenants-file.ts). Re-exported by src/tenants/types.ts, where the tenant code reads it.
// Without a tenants file there is one implicit tenant: the deployment's AZURE_TENANT_ID.
import type { RateLimit } from './parse.js';

export interface TenantConfig {
  /** Slug used in the API, CLI, metrics, console and Redis keys: a-z 0-9 -, 1-63. */
  name: string;
  /** The Entra tenant id (GUID). */
  id: string;
  /** Default: the deployment's multi-tenant app (AZURE_CLIENT_ID and its credential). */
  clientId?: string;
  /** Name of the environment variable holding this tenant's client secret. */
  clientSecretEnv?: string;
  certificatePath?: string;
  /** Overrides of GRAPH_RATE_LIMIT / GRAPH_READ_RATE_LIMIT for this tenant. */
  rateLimit?: RateLimit;
  readRateLimit?: RateLimit;
  guard?: { threshold?: number; twoPerson?: boolean };
  /** Default device policy profile for this tenant's requests. */
  devicePolicy?: string;
}
