// 7. Mixed traffic: the throttled workload (2 workers × concurrency 10, GRAPH_RATE_LIMIT = the
// simulator's sliding-window limit) once with every user answering 204 (the control) and once with a
// realistic mix of per-user trouble: about 8 % of users answer 503 once or twice then 204, 2.5 % 404,
// 1 % 403, 1 % hang until GRAPH_TIMEOUT, a few answer 429 with Retry-After. Per-user trouble must not
// slow the fleet: efficiency (calls Graph admitted ÷ the limit's rate ÷ time) ≥ 0.9 and ≥ 0.9 × the
// control, no call inside an announced Retry-After window, no job lost.
import { startSimulator } from '../../src/sim/index.js';
import type { ScriptStep } from '../../src/sim/types.js';
import { type Figure, figure, repeat, type Scenario, type ScenarioEnv } from '../lib/figures.js';
import { startBenchRedis } from '../lib/redis.js';
import { summarize } from '../lib/stats.js';
import { drain } from '../lib/throughput.js';

const S = '7 mixed';
const PROCESSES = 2;
const CONCURRENCY = 10;
const SIM_LATENCY_MS = 20;
/** Hanging calls are given up after this (GRAPH_TIMEOUT for the run; the shipped default is 30 s). */
const GRAPH_TIMEOUT = '5s';

export interface MixedPlan {
  users: string[];
  script: Record<string, ScriptStep[]>;
  /** Users expected to end dead-lettered (404 and 403); every other one must be retired. */
  expectedDeadLetters: number;
  counts: Record<string, number>;
}

/** A deterministic shuffle (mulberry32), so every repetition spreads the same mix the same way. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The simulator picks behaviour from the UPN prefix (`flaky-` 503 twice, `notfound-`, `forbidden-`,
 * `hang-` first call, `throttle-` 429 + Retry-After 1 s on the first call); `once-` users get a
 * scripted single 503.
 */
export function mixedPlan(n: number, runId: string, seed = 7): MixedPlan {
  const share = (p: number, min = 1) => Math.max(min, Math.round(n * p));
  const counts = {
    flakyTwice: share(0.04),
    flakyOnce: share(0.04),
    notFound: share(0.025),
    forbidden: share(0.01),
    hang: share(0.01),
    throttle: Math.max(1, Math.round(n / 300)),
  };
  const special: string[] = [];
  const script: Record<string, ScriptStep[]> = {};
  const add = (prefix: string, k: number) => {
    for (let i = 0; i < k; i++) special.push(`${prefix}${runId}-${i}@contoso.example`);
  };
  add('flaky-', counts.flakyTwice);
  add('once-', counts.flakyOnce);
  add('notfound-', counts.notFound);
  add('forbidden-', counts.forbidden);
  add('hang-', counts.hang);
  add('throttle-', counts.throttle);
  for (const u of special) if (u.startsWith('once-')) script[u] = [503];
  const plain = Array.from({ length: n - special.length }, (_, i) => `leaver-${runId}-${i}@contoso.example`);
  const users = [...plain, ...special];
  const random = rng(seed);
  for (let i = users.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [users[i], users[j]] = [users[j] as string, users[i] as string];
  }
  return { users, script, expectedDeadLetters: counts.notFound + counts.forbidden, counts };
}

export interface MixedRun {
  n: number;
  retired: number;
  deadLettered: number;
  /** Jobs without a terminal outcome, or retired/dead-lettered against the plan. */
  lost: number;
  calls: number;
  /** Calls Graph admitted (every answer but 429, hung calls included). */
  admitted: number;
  throttled: number;
  elapsedMs: number;
  /** Release → the last Graph call arrived: the time the fleet had calls to send. */
  sendingMs: number;
  /** Admitted calls ÷ (limit ÷ window) ÷ sending time: how much of the budget the pace used. */
  efficiency: number;
  /** The same over release → last outcome (includes the last hang's timeout and retry backoff). */
  drainEfficiency: number;
  insideRetryAfterWindow: number;
  byStatus: Record<string, number>;
}

export const mixed: Scenario = {
  id: 'mixed',
  title: 'Mixed traffic: per-user 503/404/403/hangs/429s must not slow the fleet',
  async run(env: ScenarioEnv) {
    const limit = env.mode === 'quick' ? { limit: 40, windowMs: 2000 } : { limit: 20, windowMs: 2000 };
    // About a minute at the limit in a full run; about 4 s in quick mode (a smoke test: its tail of
    // hangs and backoffs dominates such a short run, so its efficiency says little).
    const n = env.mode === 'quick' ? 80 : Math.round((60_000 * limit.limit) / limit.windowMs);
    const graphTimeout = env.mode === 'quick' ? '2s' : GRAPH_TIMEOUT;
    const redis = await startBenchRedis();
    const sim = await startSimulator({
      latencyMs: SIM_LATENCY_MS,
      limit: { ...limit, retryAfter: 'seconds' },
    });
    const variants = ['control (all 204)', 'mixed'] as const;
    const runs: Record<string, MixedRun[]> = {};
    let counts: Record<string, number> = {};
    try {
      await repeat(env, S, async (rep, flip) => {
        for (const v of flip ? [...variants].reverse() : variants) {
          await redis.client.flushall();
          const runId = `r${rep}${v === 'mixed' ? 'm' : 'c'}${Date.now().toString(36)}`;
          const plan =
            v === 'mixed'
              ? mixedPlan(n, runId)
              : {
                  users: Array.from({ length: n }, (_, i) => `leaver-${runId}-${i}@contoso.example`),
                  script: {},
                  expectedDeadLetters: 0,
                  counts: {},
                };
          if (v === 'mixed') counts = plan.counts;
          const d = await drain({
            kind: 'offboard',
            processes: PROCESSES,
            concurrency: CONCURRENCY,
            n,
            sim,
            redis,
            users: plan.users,
            script: plan.script,
            env: { GRAPH_TIMEOUT: graphTimeout },
            rateLimit: `${limit.limit}/${limit.windowMs}ms`,
            timeoutMs: ((n * limit.windowMs) / limit.limit) * 6 + 120_000,
          });
          const throttled = d.graph.byStatus['429'] ?? 0;
          const admitted = d.graph.calls - throttled;
          const expectedRetired = n - plan.expectedDeadLetters;
          const r: MixedRun = {
            n,
            retired: d.completed,
            deadLettered: d.deadLettered,
            lost:
              Math.max(0, expectedRetired - d.completed) +
              Math.abs(plan.expectedDeadLetters - d.deadLettered),
            calls: d.graph.calls,
            admitted,
            throttled,
            elapsedMs: d.elapsedMs,
            sendingMs: Math.max(1, (d.graph.lastCallAt ?? d.releasedAt) - d.releasedAt),
            efficiency:
              admitted /
              ((limit.limit / limit.windowMs) *
                Math.max(1, (d.graph.lastCallAt ?? d.releasedAt) - d.releasedAt)),
            drainEfficiency: admitted / ((limit.limit / limit.windowMs) * d.elapsedMs),
            insideRetryAfterWindow: d.graph.insideRetryAfterWindow,
            byStatus: d.graph.byStatus,
          };
          env.log(
            `    ${v}: efficiency ${r.efficiency.toFixed(3)} (to last outcome ${r.drainEfficiency.toFixed(3)}), ${r.admitted} calls admitted, 429 ${r.throttled}, ` +
              `inside Retry-After ${r.insideRetryAfterWindow}, retired ${r.retired}, dead letters ${r.deadLettered}, ` +
              `lost ${r.lost}, ${(r.sendingMs / 1000).toFixed(1)} s sending, ${(r.elapsedMs / 1000).toFixed(1)} s to the last outcome`,
          );
          runs[v] = [...(runs[v] ?? []), r];
        }
      });
    } finally {
      await sim.close();
      await redis.stop();
    }
    const control = runs[variants[0]] ?? [];
    const mix = runs.mixed ?? [];
    const figures: Figure[] = [
      figure(
        S,
        'control (all 204): efficiency (calls ÷ limit ÷ sending time)',
        'x',
        summarize(control.map((r) => r.efficiency)),
      ),
      figure(
        S,
        'mixed: efficiency (calls ÷ limit ÷ sending time)',
        'x',
        summarize(mix.map((r) => r.efficiency)),
        { op: '>=', value: 0.9 },
      ),
      figure(
        S,
        'ratio mixed ÷ control',
        'x',
        summarize(mix.map((r, i) => r.efficiency / (control[i]?.efficiency ?? Number.NaN))),
        { op: '>=', value: 0.9 },
      ),
      figure(
        S,
        'mixed: efficiency to the last outcome (incl. the last hang timeout)',
        'x',
        summarize(mix.map((r) => r.drainEfficiency)),
      ),
      figure(
        S,
        'control: efficiency to the last outcome',
        'x',
        summarize(control.map((r) => r.drainEfficiency)),
      ),
      figure(S, 'mixed: calls answered 429', 'calls', summarize(mix.map((r) => r.throttled))),
      figure(
        S,
        'mixed: calls inside announced Retry-After windows',
        'calls',
        summarize(mix.map((r) => r.insideRetryAfterWindow)),
        { op: '<=', value: 0 },
      ),
      figure(
        S,
        'mixed: jobs lost (no outcome, or not the expected one)',
        'jobs',
        summarize(mix.map((r) => r.lost)),
        { op: '<=', value: 0 },
      ),
    ];
    return {
      figures,
      details: {
        n,
        limit,
        processes: PROCESSES,
        concurrency: CONCURRENCY,
        simLatencyMs: SIM_LATENCY_MS,
        graphTimeout,
        mix: counts,
        runs,
      },
    };
  },
};
