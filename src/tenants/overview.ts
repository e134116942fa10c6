// What operators see per tenant (issue 22): backlog by state, dead letters, held batches, and the
// tenant's pace, Retry-After gate and circuit with an ETA for its backlog. Read by `offboard status
// --tenant`, the console overview and /metrics. Jobs of every tenant share the retire queue, so the
// backlog is counted from the jobs' data (`tenant` field), capped so a huge queue stays cheap: past
// the cap the counts are lower bounds (`truncated`). The live pacing state comes from the tenants'
// own keys through a seam (TenantStateReader) that tcore's src/tenants/status.ts fills.
import type { BatchSummary } from '../guard/types.js';
import type { QueueContext } from '../queue/context.js';
import { configuredTenants } from './scope.js';

/** Live pacing state of one tenant, as its pacer, gate and circuit keys say. */
export interface TenantLiveState {
  circuitOpen: boolean;
  circuitCode?: string;
  /** ISO instant its Retry-After gate lifts; null when none is in force. */
  pausedUntil: string | null;
  /** Writes per second its pacer allows now. */
  ratePerSecond: number;
  /** Jobs parked while its circuit is open. */
  parked: number;
}

export type TenantStateReader = (ctx: QueueContext, tenant: string) => Promise<TenantLiveState>;

export interface TenantOverview extends TenantLiveState {
  tenant: string;
  /**
   * `delayed` counts every delayed job; `paced` those of them waiting only for the tenant's turn
   * (no effectiveAt of their own: spread at its pace at enqueue, src/tenants/turns.ts).
   */
  backlog: { waiting: number; delayed: number; active: number; paced: number };
  deadLetters: number;
  heldBatches: number;
  /** Seconds until the due backlog (waiting + active + paced) is through at its pace; null: stopped. */
  etaSeconds: number | null;
  /** Some counts stopped at the scan cap: they are lower bounds. */
  truncated: boolean;
}

/** Jobs looked at per state; past it the counts are lower bounds. */
export const SCAN_CAP = 50_000;
const TENANT_IN_DATA = /"tenant":"([a-z0-9-]{1,63})"/;

/** Fallback reader before per-tenant pacing exists: the configured rate, no gate, no circuit. */
export const configuredState: TenantStateReader = async (ctx, tenant) => {
  const t = ctx.config.tenants?.find((x) => x.name === tenant);
  const { limit, windowMs } = t?.rateLimit ?? ctx.config.graph.rateLimit;
  return {
    circuitOpen: false,
    pausedUntil: null,
    ratePerSecond: Math.round(((limit * 1000) / windowMs) * ctx.config.graph.rateHeadroom * 1000) / 1000,
    parked: 0,
  };
};

type Counts = Map<string, number>;

/** Job ids of some states → per-tenant counts, reading only each job's data field. */
async function countByTenant(
  ctx: QueueContext,
  queue: 'retire' | 'deadLetter',
  states: ('waiting' | 'delayed' | 'active' | 'prioritized')[],
  tenantOf: (data: string) => string | undefined,
): Promise<{ counts: Counts; truncated: boolean }> {
  const q = ctx[queue];
  const ids = await q.getRanges(states, 0, SCAN_CAP - 1, true);
  const counts: Counts = new Map();
  const pipeline = ctx.redis.pipeline();
  for (const id of ids) pipeline.hget(q.toKey(id), 'data');
  const rows = ids.length > 0 ? ((await pipeline.exec()) ?? []) : [];
  for (const [err, raw] of rows) {
    if (err || typeof raw !== 'string') continue;
    const t = tenantOf(raw);
    if (t) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return { counts, truncated: ids.length >= SCAN_CAP * states.length };
}

const fromRetire = (raw: string) => TENANT_IN_DATA.exec(raw)?.[1];
/** Delayed jobs by tenant, with `/paced` for those without a leave moment of their own. */
const pacedOrDated = (raw: string) => {
  const t = fromRetire(raw);
  return t && !raw.includes('"effectiveAt"') ? `${t}/paced` : t;
};
// A dead letter's data holds the original job data: its tenant is the only `tenant` in it.
const fromDeadLetter = fromRetire;

/**
 * One row per visible tenant (`only`: the tenants to show, e.g. a scoped key's or `--tenant`).
 * Without a tenants file: [].
 */
export async function tenantOverviews(
  ctx: QueueContext,
  opts: { only?: readonly string[]; state?: TenantStateReader; heldBatches?: BatchSummary[] } = {},
): Promise<TenantOverview[]> {
  const names = configuredTenants(ctx.config).filter((n) => !opts.only || opts.only.includes(n));
  if (names.length === 0) return [];
  const readState = opts.state ?? configuredState;
  const [waiting, delayed, active, dead, states] = await Promise.all([
    countByTenant(ctx, 'retire', ['waiting', 'prioritized'], fromRetire),
    countByTenant(ctx, 'retire', ['delayed'], pacedOrDated),
    countByTenant(ctx, 'retire', ['active'], fromRetire),
    countByTenant(ctx, 'deadLetter', ['waiting'], fromDeadLetter),
    Promise.all(names.map((n) => readState(ctx, n))),
  ]);
  const truncated = waiting.truncated || delayed.truncated || active.truncated || dead.truncated;
  return names.map((tenant, i) => {
    const live = states[i] as TenantLiveState;
    const paced = delayed.counts.get(`${tenant}/paced`) ?? 0;
    const backlog = {
      waiting: waiting.counts.get(tenant) ?? 0,
      delayed: (delayed.counts.get(tenant) ?? 0) + paced,
      active: active.counts.get(tenant) ?? 0,
      paced,
    };
    const due = backlog.waiting + backlog.active + paced;
    const stopped = live.circuitOpen || live.ratePerSecond <= 0;
    const gateS = live.pausedUntil ? Math.max(0, (Date.parse(live.pausedUntil) - Date.now()) / 1000) : 0;
    return {
      tenant,
      ...live,
      backlog,
      deadLetters: dead.counts.get(tenant) ?? 0,
      heldBatches: (opts.heldBatches ?? []).filter((b) => b.tenant === tenant && b.state === 'held').length,
      etaSeconds: stopped ? (due === 0 ? 0 : null) : Math.ceil(gateS + due / live.ratePerSecond),
      truncated,
    };
  });
}
