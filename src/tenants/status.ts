// One tenant's state as operators read it: circuit, Retry-After gate, pace factor, parked jobs. Read
// from the tenant's keys only (registry.ts): absent keys mean an idle, healthy tenant.
import type { CircuitState } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { getTenantCircuit } from './circuit.js';
import { tenantKeys } from './registry.js';

export interface TenantStatus {
  name: string;
  id: string;
  circuit: CircuitState;
  /** Set while the tenant's Retry-After gate is in force (ISO). */
  pausedUntil: string | null;
  /** The tenant's adaptive write factor in (0, 1]. */
  factor: number;
  /** Writes per second the tenant's pacer allows now. */
  ratePerSecond: number;
  /** Jobs parked while its circuit is open. */
  parked: number;
}

export async function tenantStatus(ctx: QueueContext, name: string): Promise<TenantStatus | undefined> {
  const t = ctx.config.tenants?.find((x) => x.name === name);
  if (!t) return undefined;
  const p = ctx.prefix;
  const [circuit, gate, factorRaw, parked] = await Promise.all([
    getTenantCircuit(ctx, name),
    ctx.redis.get(tenantKeys.throttleGate(p, name)),
    ctx.redis.hget(tenantKeys.pacer(p, name), 'factor'),
    ctx.redis.zcard(tenantKeys.parked(p, name)),
  ]);
  const { limit, windowMs } = t.rateLimit ?? ctx.config.graph.rateLimit;
  const factor = factorRaw ? Math.min(1, Math.max(0, Number(factorRaw))) : 1;
  const gateMs = gate ? Number(gate) : 0;
  return {
    name,
    id: t.id,
    circuit,
    pausedUntil: gateMs > Date.now() ? new Date(gateMs).toISOString() : null,
    factor,
    ratePerSecond:
      Math.round(((limit * 1000) / windowMs) * ctx.config.graph.rateHeadroom * factor * 1000) / 1000,
    parked,
  };
}
