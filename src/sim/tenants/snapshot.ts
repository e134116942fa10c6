// Per-tenant counters as SimStats reports them (in-process and GET /_sim/stats): only when the
// simulator has more tenants than its default one, so a one-tenant simulator's stats keep their shape.
import type { SimState } from '../state.js';
import type { TenantStats } from './stats.js';

export function tenantStats(
  state: SimState,
  includeUsers: boolean,
): { tenants?: Record<string, TenantStats> } {
  if (!state.tenants.multi) return {};
  return {
    tenants: Object.fromEntries(state.tenants.all().map((t) => [t.id, t.stats.snapshot(includeUsers)])),
  };
}
