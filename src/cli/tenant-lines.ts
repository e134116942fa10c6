// One line per tenant for `offboard status` (TENANTS_FILE): backlog, dead letters, held batches,
// pace, gate, circuit and the backlog's ETA. Kept apart so status.ts stays about one job.
import type { TenantOverview } from '../tenants/overview.js';

function eta(s: number | null): string {
  if (s === null) return 'stopped';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

export function tenantLine(t: TenantOverview): string {
  const b = t.backlog;
  const circuit = t.circuitOpen ? `OPEN${t.circuitCode ? ` ${t.circuitCode}` : ''}` : 'closed';
  const gate = t.pausedUntil ? `Retry-After until ${t.pausedUntil}` : 'none';
  return (
    `tenant ${t.tenant}  waiting ${b.waiting}  delayed ${b.delayed}${b.paced ? ` (${b.paced} paced)` : ''}  active ${b.active}` +
    `  dead-letter ${t.deadLetters}  held ${t.heldBatches}  pace ${t.ratePerSecond}/s  gate ${gate}` +
    `  circuit ${circuit}${t.parked ? `  parked ${t.parked}` : ''}  eta ${eta(t.etaSeconds)}` +
    (t.truncated ? '  (counts are lower bounds)' : '')
  );
}
