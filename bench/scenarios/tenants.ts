// 8. Many tenants in one deployment (issue 22): the simulator's limits scaled as in the throttled
// scenario (200 per 20 s → 20 per 2 s per app per tenant; the 400 per 20 s cross-app budget → 40 per
// 2 s, with other apps' traffic eating part of the whale's), the product's real worker processes with
// a TENANTS_FILE. Four measurements per repetition:
// 1. mix: a whale with a backlog (10,000 leavers), then 199 small tenants with 5 each arriving while it
//    runs; one small tenant has its consent revoked (Graph 403), one answers 429 Retry-After: 30.
// 2. the same without the whale: the small tenants' enqueue → first call p99 to compare with.
// 3. the same without the whale and with the revoked tenant healthy: what the revoked one costs the
//    others; then that run once more, to show how far p99 moves between two identical runs.
// 4. throughput: N tenants all backlogged vs a bare BullMQ worker (undici request(), the product's
//    HTTP client) with the same processes and concurrency on an unpaced queue, in the same repetition.
import { startSimulator } from '../../src/sim/index.js';
import { type Figure, figure, repeat, type Scenario, type ScenarioEnv } from '../lib/figures.js';
import { startBenchRedis } from '../lib/redis.js';
import { summarize } from '../lib/stats.js';
import {
  type MixResult,
  mixRun,
  type RunSetup,
  type ThroughputResult,
  throughputRun,
} from '../lib/tenant-runs.js';
import { benchTenant, simTenants, smallTenants, writeTenantsFile } from '../lib/tenants.js';

const S = '8 tenants';
// --real-limit: Intune's own 200 per 20 s (400 across apps): the same pace, a window ten times as
// long (ten times the spare calls a late call may eat before one window passes the limit).
const SCALED = { limit: { limit: 20, windowMs: 2000 }, crossApp: { limit: 40, windowMs: 2000 } };
const REAL = { limit: { limit: 200, windowMs: 20_000 }, crossApp: { limit: 400, windowMs: 20_000 } };
/** Writes per second per tenant: the same in both. */
const LIMIT_PER_SEC = 10;
/** One pacing interval of a tenant at its limit. */
const INTERVAL_MS = 1000 / LIMIT_PER_SEC;
const PROCESSES = 2;
const CONCURRENCY = 50;
const SIM_LATENCY_MS = 20;
/** Every mix starts its small tenants this long after the fleet started (tokens warm, whale paced). */
const MIX_SETTLE_MS = 3000;

interface Sizes {
  whaleLeavers: number;
  small: number;
  perSmall: number;
  retryAfter: string;
  mixMeasureMs: number;
  throughputTenants: number;
  throughputMeasureMs: number;
}

const SIZES: Record<'quick' | 'full', Sizes> = {
  full: {
    whaleLeavers: 10_000,
    small: 199,
    perSmall: 5,
    retryAfter: '30',
    mixMeasureMs: 60_000,
    throughputTenants: 100,
    throughputMeasureMs: 20_000,
  },
  quick: {
    whaleLeavers: 2000,
    small: 49,
    perSmall: 5,
    retryAfter: '5',
    mixMeasureMs: 15_000,
    throughputTenants: 20,
    throughputMeasureMs: 6000,
  },
};

interface Rep {
  withWhale: MixResult;
  withoutWhale: MixResult;
  noRevoked: MixResult;
  /** noRevoked again: how far p99 moves between two identical runs (the noise floor). */
  noRevokedAgain: MixResult;
  fleet: ThroughputResult;
  bare: ThroughputResult;
  sumOfLimits: number;
}

export const tenants: Scenario = {
  id: 'tenants',
  title: 'Many tenants: a whale, 199 small tenants, lost consent, 429 Retry-After; aggregate vs bare BullMQ',
  async run(env: ScenarioEnv) {
    const z = SIZES[env.mode];
    const { limit: LIMIT, crossApp: CROSS_APP } = env.realLimit ? REAL : SCALED;
    const RATE = `${LIMIT.limit}/${LIMIT.windowMs}ms`;
    const whale = benchTenant('whale');
    const small = smallTenants(z.small);
    const revoked = small[6] as (typeof small)[number];
    const throttled = small[12] as (typeof small)[number];
    const all = [whale, ...small];
    const tenantsFile = writeTenantsFile(all, RATE);
    const redis = await startBenchRedis();
    // The simulator-wide limit stays null: the bare baseline (the default tenant) is never throttled.
    const sim = await startSimulator({
      latencyMs: SIM_LATENCY_MS,
      limit: null,
      tenants: simTenants(
        all,
        { limit: { ...LIMIT, retryAfter: 'seconds' }, tenantLimit: CROSS_APP },
        {
          // Other apps in the whale's tenant use 16 of its 40 per window: 24 left, room for its 20.
          whale: { otherAppsPerSec: 8 },
        },
      ),
    });
    const setup: RunSetup = {
      sim,
      redis,
      processes: PROCESSES,
      concurrency: CONCURRENCY,
      rateLimit: RATE,
      tenantsFile,
    };
    const phase = (revokedOn: boolean) =>
      sim.control({
        tenants: {
          [revoked.id]: { consent: revokedOn ? 'revoked' : 'granted' },
          [throttled.id]: { throttle: { retryAfter: z.retryAfter, calls: 1 } },
        },
      });
    const mix = { small, perSmall: z.perSmall, revoked, throttled, limitPerSec: LIMIT_PER_SEC };
    const reps: Rep[] = [];
    try {
      await repeat(env, S, async () => {
        phase(true);
        const withWhale = await mixRun(setup, {
          ...mix,
          whale: { tenant: whale, leavers: z.whaleLeavers },
          warmupMs: MIX_SETTLE_MS,
          measureMs: z.mixMeasureMs,
        });
        env.log(`    mix with the whale done: ${brief(withWhale)}`);
        phase(true);
        const withoutWhale = await mixRun(setup, { ...mix, warmupMs: MIX_SETTLE_MS, measureMs: 0 });
        env.log(`    mix without the whale done: ${brief(withoutWhale)}`);
        phase(false);
        const noRevoked = await mixRun(setup, { ...mix, warmupMs: MIX_SETTLE_MS, measureMs: 0 });
        env.log(`    mix without the whale or a revoked tenant done: ${brief(noRevoked)}`);
        const noRevokedAgain = await mixRun(setup, { ...mix, warmupMs: MIX_SETTLE_MS, measureMs: 0 });
        env.log(`    the same again (noise floor): ${brief(noRevokedAgain)}`);
        sim.control({ tenants: { [throttled.id]: { throttle: null } } });
        const backlogged = small.slice(0, z.throughputTenants);
        const perTenant = Math.ceil(LIMIT_PER_SEC * ((z.throughputMeasureMs + 3000) / 1000) * 1.5);
        const run = { tenants: backlogged, perTenant, warmupMs: 3000, measureMs: z.throughputMeasureMs };
        const fleet = await throughputRun(setup, { ...run, kind: 'offboard' });
        const bare = await throughputRun(setup, { ...run, kind: 'bare-request' });
        const rep: Rep = {
          withWhale,
          withoutWhale,
          noRevoked,
          noRevokedAgain,
          fleet,
          bare,
          sumOfLimits: backlogged.length * LIMIT_PER_SEC,
        };
        env.log(
          `    whale pace ${withWhale.whalePace?.toFixed(3)} of its limit; small p99 ${withWhale.smallP99} ms with the whale, ` +
            `${withoutWhale.smallP99} ms without, ${noRevoked.smallP99} ms without a revoked tenant; revoked tenant ` +
            `${withWhale.revokedFailedCalls} failed calls; inside windows ${withWhale.insideWindows}; lost ${withWhale.lost}; ` +
            `aggregate ${fleet.callsPerSec.toFixed(0)} calls/s vs bare ${bare.callsPerSec.toFixed(0)} (sum of limits ${rep.sumOfLimits})`,
        );
        reps.push(rep);
      });
    } finally {
      await sim.close();
      await redis.stop();
    }
    return { figures: figures(reps), details: { sizes: z, limit: LIMIT, crossApp: CROSS_APP, reps } };
  },
};

function brief(m: MixResult): string {
  return `small p99 ${m.smallP99} ms per tenant, ${m.smallJobP99} ms per job (${m.smallMissing} without a call), statuses ${JSON.stringify(m.byStatus)}, lost ${m.lost}`;
}

function figures(reps: readonly Rep[]): Figure[] {
  const f = (metric: string, unit: string, values: number[], goal?: Figure['goal']) =>
    figure(S, metric, unit, summarize(values), goal);
  const mixes = reps.flatMap((r) => [r.withWhale, r.withoutWhale, r.noRevoked, r.noRevokedAgain]);
  return [
    f(
      'whale pace ÷ its limit',
      'x',
      reps.map((r) => r.withWhale.whalePace ?? Number.NaN),
      { op: '>=', value: 0.95 },
    ),
    f(
      'calls inside any tenant announced window',
      'calls',
      mixes.map((m) => m.insideWindows),
      { op: '<=', value: 0 },
    ),
    f(
      'jobs lost',
      'jobs',
      mixes.map((m) => m.lost),
      { op: '<=', value: 0 },
    ),
    f(
      'small tenants enqueue → first call p99, with the whale',
      'ms',
      reps.map((r) => r.withWhale.smallP99),
      {
        op: '<=',
        value: INTERVAL_MS + 50,
      },
    ),
    f(
      'small tenants enqueue → first call p99, without the whale',
      'ms',
      reps.map((r) => r.withoutWhale.smallP99),
    ),
    f(
      'small tenants enqueue → each job first call p99, with the whale (own pace included)',
      'ms',
      reps.map((r) => r.withWhale.smallJobP99),
    ),
    f(
      'small tenants enqueue → each job first call p99, without the whale',
      'ms',
      reps.map((r) => r.withoutWhale.smallJobP99),
    ),
    f(
      'small tenants p99, with ÷ without the whale',
      'x',
      reps.map((r) => r.withWhale.smallP99 / r.withoutWhale.smallP99),
      { op: '<=', value: 1.2 },
    ),
    f(
      'revoked tenant failed calls (its circuit opens after)',
      'calls',
      reps.map((r) => r.withWhale.revokedFailedCalls),
      {
        op: '<=',
        value: 3,
      },
    ),
    f(
      'other tenants p99 change with a revoked tenant',
      '%',
      reps.map((r) => Math.abs(r.withoutWhale.smallP99 / r.noRevoked.smallP99 - 1) * 100),
      { op: '<=', value: 5 },
    ),
    f(
      'p99 change between two identical runs without a revoked tenant (noise floor)',
      '%',
      reps.map((r) => Math.abs(r.noRevokedAgain.smallP99 / r.noRevoked.smallP99 - 1) * 100),
    ),
    f(
      'aggregate, tenants backlogged',
      'jobs/s',
      reps.map((r) => r.fleet.callsPerSec),
    ),
    f(
      'aggregate, bare BullMQ worker (same processes)',
      'jobs/s',
      reps.map((r) => r.bare.callsPerSec),
    ),
    f(
      'aggregate ÷ min(sum of limits, bare worker)',
      'x',
      reps.map((r) => r.fleet.callsPerSec / Math.min(r.sumOfLimits, r.bare.callsPerSec)),
      { op: '>=', value: 0.9 },
    ),
    f(
      'worker CPU per call, tenants',
      'ms',
      reps.map((r) => r.fleet.cpuMsPerCall),
    ),
    f(
      'worker CPU per call, bare worker',
      'ms',
      reps.map((r) => r.bare.cpuMsPerCall),
    ),
    f(
      'Redis commands per call, tenants',
      'calls',
      reps.map((r) => r.fleet.redisCommandsPerCall),
    ),
    f(
      'Redis commands per call, bare worker',
      'calls',
      reps.map((r) => r.bare.redisCommandsPerCall),
    ),
  ];
}
