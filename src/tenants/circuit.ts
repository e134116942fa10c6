// One tenant's circuit. The deployment's circuit pauses the whole retire queue; a tenant that lost
// consent (AADSTS65001 / AADSTS7000229, a 403 share) must stop ALONE. So its circuit is a key of its
// own: its pacer holds on it (no call of that tenant starts), its jobs are parked (dispatch.ts), and
// the queue keeps serving every other tenant. Only an operator closes it (resumeTenant), which also
// promotes the parked jobs at once.
import type { Job } from 'bullmq';
import { type Circuit, type CircuitScope, createCircuit } from '../control/circuit.js';
import type { CircuitState, RetireJobData, RetireRecord } from '../interfaces.js';
import type { Logger } from '../log.js';
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { incrementMetricsNow } from '../records/metrics.js';
import { tenantKeys } from './registry.js';

export function tenantCircuitScope(ctx: QueueContext, tenant: string): CircuitScope {
  const p = ctx.prefix;
  return {
    keys: {
      circuit: tenantKeys.circuit(p, tenant),
      forbidden: tenantKeys.forbidden(p, tenant),
      readForbidden: tenantKeys.readForbidden(p, tenant),
      rejected: (shape) => tenantKeys.rejected(p, tenant, shape),
      healthWindow: tenantKeys.healthWindow(p, tenant),
      readHealthWindow: tenantKeys.readHealthWindow(p, tenant),
    },
    open: async (cause, actor) => {
      const opened = await openTenantCircuit(ctx, tenant, cause, actor);
      if (opened) await incrementMetricsNow(ctx.redis, p, { [`circuit_opened:${cause.code}`]: 1 });
      return opened;
    },
    fields: { tenant },
  };
}

export function createTenantCircuit(
  ctx: QueueContext,
  tenant: string,
  logger: Logger,
  actor: string,
): Circuit {
  const w = ctx.config.worker;
  return createCircuit({
    ctx,
    logger,
    forbiddenThreshold: w.forbiddenThreshold,
    forbiddenWindowMs: w.forbiddenWindowMs,
    forbiddenShare: w.forbiddenShare,
    actor,
    scope: tenantCircuitScope(ctx, tenant),
  });
}

/** Opens the tenant's circuit once (SET NX); true for the caller that opened it (one audit entry). */
export async function openTenantCircuit(
  ctx: QueueContext,
  tenant: string,
  cause: { code: string; reason: string },
  actor = `worker:${process.pid}`,
): Promise<boolean> {
  const state: CircuitState = {
    open: true,
    code: cause.code,
    reason: cause.reason,
    openedAt: new Date().toISOString(),
    openedBy: actor,
  };
  const set = await ctx.redis.set(tenantKeys.circuit(ctx.prefix, tenant), JSON.stringify(state), 'NX');
  if (set !== 'OK') return false;
  await appendAudit(ctx, {
    type: 'circuit-open',
    actor,
    at: state.openedAt as string,
    details: { tenant, code: cause.code, reason: cause.reason },
  });
  return true;
}

export async function getTenantCircuit(
  ctx: Pick<QueueContext, 'redis' | 'prefix'>,
  tenant: string,
): Promise<CircuitState> {
  const raw = await ctx.redis.get(tenantKeys.circuit(ctx.prefix, tenant));
  if (!raw) return { open: false };
  try {
    return { ...(JSON.parse(raw) as CircuitState), open: true };
  } catch {
    return { open: true, code: 'unknown', reason: 'circuit state unreadable' };
  }
}

export interface TenantResume {
  circuitWasOpen: boolean;
  /** Parked jobs made due again. */
  promoted: number;
}

/**
 * Closes the tenant's circuit (the operator fixed the cause), forgets its judges' samples and
 * promotes its parked jobs; audited. Other tenants are not touched.
 */
export async function resumeTenant(ctx: QueueContext, tenant: string, actor: string): Promise<TenantResume> {
  const p = ctx.prefix;
  const circuit = await getTenantCircuit(ctx, tenant);
  await ctx.redis.del(
    tenantKeys.circuit(p, tenant),
    tenantKeys.forbidden(p, tenant),
    tenantKeys.readForbidden(p, tenant),
    tenantKeys.rejected(p, tenant, 'retire'),
    tenantKeys.rejected(p, tenant, 'inventory'),
  );
  const promoted = await promoteParked(ctx, tenant);
  await appendAudit(ctx, {
    type: 'resumed',
    actor,
    at: new Date().toISOString(),
    details: { tenant, promoted, ...(circuit.open ? { closedCircuit: circuit.code } : {}) },
  });
  return { circuitWasOpen: circuit.open, promoted };
}

/** Parked jobs back to due, in pages (a tenant may have parked thousands). */
async function promoteParked(ctx: QueueContext, tenant: string): Promise<number> {
  const key = tenantKeys.parked(ctx.prefix, tenant);
  let promoted = 0;
  for (;;) {
    const ids = await ctx.redis.zrange(key, 0, 499);
    if (ids.length === 0) return promoted;
    for (const id of ids) {
      const job = (await ctx.retire.getJob(id)) as Job<RetireJobData, RetireRecord> | undefined;
      // A parked job may since have been cancelled or promoted by hand: only a delayed one moves.
      if (job && (await job.isDelayed())) {
        await job.promote().catch(() => undefined);
        promoted += 1;
      }
    }
    await ctx.redis.zrem(key, ...ids);
  }
}
