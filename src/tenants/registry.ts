// The configured tenants by name, and the Redis keys that belong to one tenant. Every per-tenant key
// lives under `<prefix>:offboard:tenant:<name>:…` (one hash tag with the prefix on Redis Cluster), so
// one tenant's pace, gate, circuit and judges never touch another's. Without a tenants file no such
// key is ever written: the single-tenant keys stay exactly those of src/queue/names.ts.
import type { Config } from '../config/load.js';
import { ownKey, tenantKey } from '../queue/names.js';
import type { TenantConfig } from './types.js';

/** The tenant names of the file, in file order; [] without a tenants file. */
export function tenantNames(config: Pick<Config, 'tenants'>): string[] {
  return (config.tenants ?? []).map((t) => t.name);
}

/** The tenant of that name, or undefined (also without a tenants file). */
export function tenantOf(
  config: Pick<Config, 'tenants'>,
  name: string | undefined,
): TenantConfig | undefined {
  if (name === undefined) return undefined;
  return config.tenants?.find((t) => t.name === name);
}

const tk = tenantKey;

export const tenantKeys = {
  /** Write pacer hash (tat, factors) and its Retry-After gate. */
  pacer: (prefix: string, tenant: string) => tk(prefix, tenant, 'pacer'),
  throttleGate: (prefix: string, tenant: string) => tk(prefix, tenant, 'throttle-until'),
  healthWindow: (prefix: string, tenant: string) => tk(prefix, tenant, 'health', 'calls'),
  healthFailing: (prefix: string, tenant: string) => tk(prefix, tenant, 'health', 'failing'),
  healthRun: (prefix: string, tenant: string) => tk(prefix, tenant, 'health', 'failure-run'),
  /** Read pacer, gate and health window. */
  readPacer: (prefix: string, tenant: string) => tk(prefix, tenant, 'pacer', 'read'),
  readThrottleGate: (prefix: string, tenant: string) => tk(prefix, tenant, 'throttle-until', 'read'),
  readHealthWindow: (prefix: string, tenant: string) => tk(prefix, tenant, 'health', 'read', 'calls'),
  readHealthFailing: (prefix: string, tenant: string) => tk(prefix, tenant, 'health', 'read', 'failing'),
  readHealthRun: (prefix: string, tenant: string) => tk(prefix, tenant, 'health', 'read', 'failure-run'),
  /** The tenant's circuit (CircuitState JSON): while it exists none of its calls start. */
  circuit: (prefix: string, tenant: string) => tk(prefix, tenant, 'circuit'),
  /** The 403 / 400 judges' sorted sets. */
  forbidden: (prefix: string, tenant: string) => tk(prefix, tenant, 'forbidden'),
  readForbidden: (prefix: string, tenant: string) => tk(prefix, tenant, 'forbidden', 'read'),
  rejected: (prefix: string, tenant: string, shape: string) => tk(prefix, tenant, 'rejected', shape),
  /** Sorted set job id → parked at (ms): jobs parked while the tenant's circuit is open. */
  parked: (prefix: string, tenant: string) => tk(prefix, tenant, 'parked'),
  /** The tenant's virtual clock: the next free turn (ms) handed to a job that cannot send now. */
  turn: (prefix: string, tenant: string) => tk(prefix, tenant, 'turn'),
  // The guard's per-tenant windows are src/guard/scope.ts's (the guard does not import tenants/).
  /** The deployment-wide pacer of Graph's per-app cap across tenants (GRAPH_GLOBAL_RATE_LIMIT). */
  globalPacer: (prefix: string) => ownKey(prefix, 'global', 'pacer'),
  globalGate: (prefix: string) => ownKey(prefix, 'global', 'throttle-until'),
};
