// Per-tenant series on /metrics (TENANTS_FILE, issue 22), each with a `tenant` label whose values
// are the tenants file's names only (bounded cardinality). Without a tenants file nothing is
// registered: the single-tenant exposition is exactly as before. A tenant-scoped key reads only
// these series, for its own tenants (scopedExposition).
import type { Metric, Registry } from 'prom-client';
import { readAllBatches } from '../../guard/store.js';
import type { QueueContext } from '../../queue/context.js';
import { type TenantOverview, tenantOverviews } from '../../tenants/overview.js';
import { tenantStateReader } from '../../tenants/state-reader.js';
import { redisDown } from '../errors.js';
import { type Sample, SnapshotMetric, sharedRead } from './fleet.js';

const PREFIX = 'offboard_tenant_';

export function registerTenantMetrics(registry: Registry, ctx: QueueContext): void {
  if (!ctx.config.tenants || ctx.config.tenants.length === 0) return;
  const read = sharedRead(async (): Promise<TenantOverview[]> => {
    if (redisDown(ctx.redis)) return [];
    try {
      const held = (await readAllBatches(ctx, 1000)).filter((b) => b.state === 'held');
      return await tenantOverviews(ctx, { state: tenantStateReader, heldBatches: held });
    } catch {
      return [];
    }
  });
  const add = (name: string, help: string, compute: (t: TenantOverview) => Sample[]) =>
    registry.registerMetric(
      new SnapshotMetric(`${PREFIX}${name}`, help, 'gauge', read, (rows) =>
        rows.flatMap(compute),
      ) as unknown as Metric,
    );
  add('jobs', 'Retire jobs per tenant and state (waiting, delayed, active) and its dead letters', (t) => [
    { labels: { tenant: t.tenant, state: 'waiting' }, value: t.backlog.waiting },
    { labels: { tenant: t.tenant, state: 'delayed' }, value: t.backlog.delayed },
    { labels: { tenant: t.tenant, state: 'active' }, value: t.backlog.active },
    { labels: { tenant: t.tenant, state: 'dead-lettered' }, value: t.deadLetters },
  ]);
  add('held_batches', 'Batches of the tenant held for approval', (t) => [
    { labels: { tenant: t.tenant }, value: t.heldBatches },
  ]);
  add('rate_per_second', 'Writes per second the tenant’s pacer allows now', (t) => [
    { labels: { tenant: t.tenant }, value: t.ratePerSecond },
  ]);
  add('throttle_paused', 'Whether the tenant’s Retry-After gate is in force', (t) => [
    { labels: { tenant: t.tenant }, value: t.pausedUntil ? 1 : 0 },
  ]);
  add('circuit_open', 'Whether the tenant’s circuit is open (its jobs stopped alone)', (t) => [
    { labels: { tenant: t.tenant }, value: t.circuitOpen ? 1 : 0 },
  ]);
  add(
    'backlog_eta_seconds',
    'Seconds until the tenant’s due backlog is through at its pace (-1: stopped)',
    (t) => [{ labels: { tenant: t.tenant }, value: t.etaSeconds ?? -1 }],
  );
}

/**
 * The exposition for a tenant-scoped key: only the per-tenant series, only its tenants' samples
 * (fleet-wide series would tell it about other customers' load).
 */
export function scopedExposition(text: string, tenants: readonly string[]): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      if (line.slice(7).startsWith(PREFIX)) out.push(line);
      continue;
    }
    if (!line.startsWith(PREFIX)) continue;
    const m = /tenant="([a-z0-9-]+)"/.exec(line);
    if (m && tenants.includes(m[1] as string)) out.push(line);
  }
  return `${out.join('\n')}\n`;
}
