// The two measurements of the `tenants` scenario, each a real fleet of worker processes against the
// multi-tenant simulator and a private Redis:
// - mixRun: an optional whale tenant backlogged, then every small tenant's few leavers enqueued while
//   it runs (one of them with consent revoked, one answering 429 Retry-After): the whale's pace in a
//   window, each small job's enqueue → first Graph call, the revoked tenant's failed calls, and what
//   became of every job (lost = in no BullMQ state, or failed for a healthy tenant).
// - throughputRun: every tenant backlogged (or, for the bare BullMQ baseline, one unpaced queue): the
//   successful calls per second in a window, with worker CPU and Redis commands per call.
import type { Simulator } from '../../src/sim/index.js';
import { type Fleet, startFleet, type WorkerKind } from './fleet.js';
import type { BenchRedis } from './redis.js';
import { percentile } from './stats.js';
import {
  addJobs,
  closeQueueContext,
  freshPrefix,
  leavers,
  openContext,
  release,
  systemEnv,
} from './system.js';
import {
  addTenantJobs,
  type BenchTenant,
  firstCallLatencies,
  successesIn,
  tenantLeavers,
} from './tenants.js';

export interface RunSetup {
  sim: Simulator;
  redis: BenchRedis;
  processes: number;
  concurrency: number;
  /** GRAPH_RATE_LIMIT (and every tenant's). */
  rateLimit: string;
  tenantsFile: string;
}

export interface MixOptions {
  whale?: { tenant: BenchTenant; leavers: number };
  small: readonly BenchTenant[];
  perSmall: number;
  revoked: BenchTenant;
  throttled: BenchTenant;
  /** The fleet runs (the whale backlogged, if any) this long before the small tenants arrive. */
  warmupMs: number;
  /** The whale's pace is measured over [release + warmup, + measureMs]; the run lasts at least that. */
  measureMs: number;
  /** Whale limit in calls per second (the simulator's per-tenant window). */
  limitPerSec: number;
}

export interface MixResult {
  whalePace?: number;
  whaleSucceeded?: number;
  /** Healthy small tenants' enqueue → first call, ms, one per job (lower bounds for `smallMissing`). */
  smallLatencies: number[];
  /** p99 of smallLatencies: a tenant's later jobs also wait for its own pace (one interval each). */
  smallJobP99: number;
  /** Per healthy small tenant: enqueue → the tenant's first Graph call, ms (the figure). */
  smallFirstLatencies: number[];
  smallP99: number;
  /** Healthy small jobs whose user had no call when the run stopped. */
  smallMissing: number;
  throttledFirstCallMs: number;
  revokedFailedCalls: number;
  revokedTokenFailures: number;
  insideWindows: number;
  /** Tenants with calls inside their announced windows (or answered 429), by name: which tenant to look at. */
  insideByTenant: Record<string, { inside: number; throttled: number }>;
  staged: number;
  inStates: number;
  lost: number;
  failedHealthy: number;
  deadLettered: number;
  byStatus: Record<string, number>;
}

const SMALL_DEADLINE_MS = 60_000;
const WARM_DEADLINE_MS = 30_000;

/** Until every tenant's token was issued once per worker process (or the deadline: then measured as is). */
async function tokensWarm(s: RunSetup, tenants: readonly BenchTenant[], deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const st = s.sim.stats().tenants ?? {};
    if (tenants.every((t) => (st[t.id]?.token.issued ?? 0) >= s.processes)) return;
    await sleep(100);
  }
}

function tenantEnv(s: RunSetup, tag: string): Record<string, string> {
  return {
    ...systemEnv({
      redisUrl: s.redis.url,
      prefix: freshPrefix(tag),
      sim: s.sim,
      concurrency: s.concurrency,
      rateLimit: s.rateLimit,
    }),
    TENANTS_FILE: s.tenantsFile,
  };
}

export async function mixRun(s: RunSetup, o: MixOptions): Promise<MixResult> {
  await s.redis.client.flushall();
  s.sim.reset();
  const env = tenantEnv(s, 'tenants-mix');
  const ctx = openContext(env);
  let fleet: Fleet | undefined;
  try {
    await ctx.retire.pause();
    const whaleUsers = o.whale ? tenantLeavers(o.whale.tenant, o.whale.leavers) : [];
    const [, started] = await Promise.all([
      o.whale ? addTenantJobs(ctx, o.whale.tenant.name, whaleUsers) : Promise.resolve(),
      startFleet({ kind: 'offboard', processes: s.processes, env }),
    ]);
    fleet = started;
    const t0 = await release(ctx);
    // Every mix (with the whale or not) starts its small tenants on a settled fleet: the same
    // steady state (every tenant's token warmed in every process, workers idle or pacing the whale)
    // for the runs compared. The warm-up of 200 tenants outlasts a fixed 3 s on two cores.
    await sleep(o.warmupMs);
    await tokensWarm(s, o.small, WARM_DEADLINE_MS);
    const enqueued = new Map<string, { at: number; users: string[] }>();
    for (const t of o.small) {
      const users = tenantLeavers(t, o.perSmall);
      const at = Date.now();
      await addTenantJobs(ctx, t.name, users);
      enqueued.set(t.name, { at, users });
    }
    const healthy = o.small.filter((t) => t !== o.revoked && t !== o.throttled);
    const deadline = Date.now() + SMALL_DEADLINE_MS;
    const measureEnd = t0 + o.warmupMs + o.measureMs;
    for (;;) {
      const tenants = s.sim.stats().tenants ?? {};
      const waiting = healthy.some((t) =>
        (enqueued.get(t.name)?.users ?? []).some((u) => tenants[t.id]?.firstCallByUser[u] === undefined),
      );
      const throttledDone = (enqueued.get(o.throttled.name)?.users ?? []).every(
        (u) => (tenants[o.throttled.id]?.firstCallByUser[u] ?? 0) > 0,
      );
      if ((!waiting && Date.now() >= measureEnd && throttledDone) || Date.now() > deadline + o.measureMs)
        break;
      await sleep(250);
    }
    const stats = s.sim.stats();
    const stoppedAt = Date.now();
    await fleet.stop();
    fleet = undefined;
    const tenants = stats.tenants ?? {};
    const latenciesOf = (t: BenchTenant) => {
      const e = enqueued.get(t.name);
      return e
        ? firstCallLatencies(tenants[t.id]?.firstCallByUser ?? {}, e.at, e.users, stoppedAt)
        : { latencies: [], missing: 0 };
    };
    const smallLatencies: number[] = [];
    const smallFirstLatencies: number[] = [];
    let smallMissing = 0;
    for (const t of healthy) {
      const l = latenciesOf(t);
      smallLatencies.push(...l.latencies);
      if (l.latencies.length > 0) smallFirstLatencies.push(Math.min(...l.latencies));
      smallMissing += l.missing;
    }
    const revoked = tenants[o.revoked.id];
    const result: MixResult = {
      smallLatencies,
      smallJobP99: percentile(smallLatencies, 99),
      smallFirstLatencies,
      smallP99: percentile(smallFirstLatencies, 99),
      smallMissing,
      throttledFirstCallMs: Math.max(...latenciesOf(o.throttled).latencies),
      revokedFailedCalls: revoked ? revoked.calls - revoked.succeeded : Number.NaN,
      revokedTokenFailures: revoked?.token.failures ?? Number.NaN,
      insideWindows: stats.graph.insideRetryAfterWindow,
      insideByTenant: Object.fromEntries(
        [...(o.whale ? [o.whale.tenant] : []), ...o.small]
          .map((t) => [t.name, tenants[t.id]] as const)
          .filter(([, st]) => st && (st.insideRetryAfterWindow > 0 || st.throttled > 0))
          .map(([name, st]) => [
            name,
            { inside: st?.insideRetryAfterWindow ?? 0, throttled: st?.throttled ?? 0 },
          ]),
      ),
      byStatus: stats.graph.byStatus,
      ...(await accountJobs(ctx, o.revoked.name, whaleUsers.length + o.small.length * o.perSmall)),
    };
    if (o.whale) {
      const from = t0 + o.warmupMs;
      const n = successesIn(stats.graph.log, from, from + o.measureMs, o.whale.tenant.domain);
      result.whaleSucceeded = n;
      result.whalePace = n / (o.measureMs / 1000) / o.limitPerSec;
    }
    return result;
  } finally {
    await fleet?.stop();
    await closeQueueContext(ctx);
  }
}

/** Every staged job must be in some BullMQ state; failures of healthy tenants count as lost too. */
async function accountJobs(
  ctx: ReturnType<typeof openContext>,
  revoked: string,
  staged: number,
): Promise<Pick<MixResult, 'staged' | 'inStates' | 'lost' | 'failedHealthy' | 'deadLettered'>> {
  const counts = await ctx.retire.getJobCounts(
    'completed',
    'failed',
    'delayed',
    'wait',
    'active',
    'prioritized',
    'waiting-children',
  );
  const inStates = Object.values(counts).reduce((a, b) => a + b, 0);
  const failed = await ctx.retire.getJobs(['failed'], 0, -1, false);
  const failedHealthy = failed.filter((j) => (j.data as { tenant?: string }).tenant !== revoked).length;
  const deadLettered = await ctx.deadLetter.count();
  return {
    staged,
    inStates,
    lost: Math.max(0, staged - inStates) + failedHealthy,
    failedHealthy,
    deadLettered,
  };
}

export interface ThroughputOptions {
  kind: WorkerKind;
  /** Backlogged tenants (offboard); ignored by the bare worker, which gets one plain queue. */
  tenants: readonly BenchTenant[];
  perTenant: number;
  warmupMs: number;
  measureMs: number;
}

export interface ThroughputResult {
  callsPerSec: number;
  cpuMsPerCall: number;
  redisCommandsPerCall: number;
  redisByCommand: Record<string, number>;
  /** Every retire call's status over the whole run. */
  byStatus: Record<string, number>;
}

/**
 * The bare worker is unpaced: a backlog sized by the tenants' limits drains before the window opens
 * (it measured 0 jobs/s in quick mode). It gets enough for BARE_CEILING_PER_SEC through the whole run.
 */
const BARE_CEILING_PER_SEC = 4000;
function bareBacklog(o: ThroughputOptions): number {
  const seconds = (o.warmupMs + o.measureMs) / 1000;
  return Math.max(o.tenants.length * o.perTenant, Math.ceil(seconds * BARE_CEILING_PER_SEC));
}

export async function throughputRun(s: RunSetup, o: ThroughputOptions): Promise<ThroughputResult> {
  await s.redis.client.flushall();
  s.sim.reset();
  const env = tenantEnv(s, `tenants-${o.kind}`);
  if (o.kind !== 'offboard') delete env.TENANTS_FILE;
  const ctx = openContext(env);
  let fleet: Fleet | undefined;
  try {
    await ctx.retire.pause();
    const stage =
      o.kind === 'offboard'
        ? Promise.all(o.tenants.map((t) => addTenantJobs(ctx, t.name, tenantLeavers(t, o.perTenant))))
        : addJobs(ctx, leavers(bareBacklog(o)));
    const [, started] = await Promise.all([stage, startFleet({ kind: o.kind, processes: s.processes, env })]);
    fleet = started;
    await release(ctx);
    await sleep(o.warmupMs);
    const from = Date.now();
    const cpu0 = fleet.cpuMs();
    const redis0 = await s.redis.commandCalls();
    await sleep(Math.max(0, from + o.measureMs - Date.now()));
    const cpu1 = fleet.cpuMs();
    const redis1 = await s.redis.commandCalls();
    const to = Date.now();
    const stats = s.sim.stats();
    const calls = successesIn(stats.graph.log, from, to);
    // A backlog that ran dry inside the window measures the backlog, not the workers.
    const left = await ctx.retire.getJobCounts('wait', 'delayed', 'prioritized');
    const drained = Object.values(left).reduce((a, b) => a + b, 0) === 0;
    const redisByCommand: Record<string, number> = {};
    let commands = 0;
    for (const [cmd, n] of Object.entries(redis1)) {
      const d = n - (redis0[cmd] ?? 0);
      if (d <= 0) continue;
      commands += d;
      redisByCommand[cmd] = Math.round((d / Math.max(1, calls)) * 100) / 100;
    }
    return {
      callsPerSec: drained ? Number.NaN : calls / ((to - from) / 1000),
      cpuMsPerCall: (cpu1 - cpu0) / Math.max(1, calls),
      redisCommandsPerCall: commands / Math.max(1, calls),
      redisByCommand,
      byStatus: stats.graph.byStatus,
    };
  } finally {
    await fleet?.stop();
    await closeQueueContext(ctx);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
