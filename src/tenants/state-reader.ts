// The seam between the operators' views (overview.ts) and per-tenant pacing (status.ts): which live
// state a tenant row shows: the tenant's own circuit, Retry-After gate, pace and parked jobs.
import type { TenantStateReader } from './overview.js';
import { configuredState } from './overview.js';
import { tenantStatus } from './status.js';

export const tenantStateReader: TenantStateReader = async (ctx, tenant) => {
  const s = await tenantStatus(ctx, tenant);
  if (!s) return configuredState(ctx, tenant);
  return {
    circuitOpen: s.circuit.open,
    ...(s.circuit.code ? { circuitCode: s.circuit.code } : {}),
    pausedUntil: s.pausedUntil,
    ratePerSecond: s.ratePerSecond,
    parked: s.parked,
  };
};
