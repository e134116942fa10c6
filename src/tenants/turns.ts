// Turns at enqueue: a tenant's new jobs are spread over time at its pace on its virtual clock
// (lua/tenants/turn.lua), so a whale's 10,000 leavers go to BullMQ's delayed set one interval apart
// instead of filling the wait list ahead of a small tenant's 5. A small tenant's clock is at "now", so
// its jobs are due at once and are served at the next free slot: at most one turn of the ready
// tenants. The pacer stays the authority when a job runs (dispatch.ts); the clock only orders wake-ups.
import type { Config } from '../config/load.js';
import { runScript } from '../lua/scripts.js';
import type { RedisClient } from '../redis/connection.js';
import { tenantKeys, tenantOf } from './registry.js';

/** ms between two writes of the tenant at full pace. */
export function tenantIntervalMs(config: Pick<Config, 'graph' | 'tenants'>, tenant: string): number {
  const { limit, windowMs } = tenantOf(config, tenant)?.rateLimit ?? config.graph.rateLimit;
  return windowMs / (limit * config.graph.rateHeadroom);
}

/**
 * Delays (ms from now) for `count` new jobs of one tenant, one interval apart from its clock's next
 * free turn; one round trip. [] for count 0 or a tenant the file does not have.
 */
export async function tenantTurnDelays(
  ctx: { redis: RedisClient; prefix: string; config: Pick<Config, 'graph' | 'tenants'> },
  tenant: string,
  count: number,
): Promise<number[]> {
  if (count <= 0 || !tenantOf(ctx.config, tenant)) return [];
  const interval = tenantIntervalMs(ctx.config, tenant);
  const first = Number(
    await runScript(ctx.redis, 'tenants/turn', [tenantKeys.turn(ctx.prefix, tenant)], [0, interval, count]),
  );
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => Math.max(0, Math.round(first + i * interval - now)));
}

/**
 * The turn delay of each new job (aligned with `jobs`, 0 = due now), one round trip per tenant in the
 * list. Jobs with an effectiveAt keep their own time; without a tenants file: all 0, no Redis call.
 */
export async function turnDelaysFor(
  ctx: { redis: RedisClient; prefix: string; config: Pick<Config, 'graph' | 'tenants'> },
  jobs: readonly { tenant?: string; effectiveAt?: string }[],
): Promise<number[]> {
  const out = new Array<number>(jobs.length).fill(0);
  if (!ctx.config.tenants) return out;
  const byTenant = new Map<string, number[]>();
  jobs.forEach((j, i) => {
    if (j.tenant === undefined || j.effectiveAt !== undefined) return;
    const list = byTenant.get(j.tenant) ?? [];
    list.push(i);
    byTenant.set(j.tenant, list);
  });
  await Promise.all(
    [...byTenant].map(async ([tenant, idx]) => {
      const delays = await tenantTurnDelays(ctx, tenant, idx.length);
      delays.forEach((d, k) => {
        out[idx[k] as number] = d;
      });
    }),
  );
  return out;
}
