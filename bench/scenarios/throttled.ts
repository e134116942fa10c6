// 1. Throttled efficiency: N retire jobs against an Intune-like sliding window, with the shipped
// defaults (2 worker processes × WORKER_CONCURRENCY 10, GRAPH_RATE_LIMIT = the simulator's limit),
// beside the same workload done the way most tools do it (per-request SDK RetryHandler retries).
import { type RetryAfterFormat, startSimulator } from '../../src/sim/index.js';
import { type Figure, figure, repeat, type Scenario, type ScenarioEnv } from '../lib/figures.js';
import type { WorkerKind } from '../lib/fleet.js';
import { startBenchRedis } from '../lib/redis.js';
import { summarize } from '../lib/stats.js';
import { drain } from '../lib/throughput.js';

const S = '1 throttled';
const PROCESSES = 2;
const CONCURRENCY = 10;
const SIM_LATENCY_MS = 20;

export interface ThrottledRun {
  n: number;
  succeeded: number;
  failed: number;
  /** Succeeded jobs ÷ the limit's rate. */
  idealMs: number;
  /** Release → every job has an outcome. */
  actualMs: number;
  efficiency: number;
  calls: number;
  throttled: number;
  throttledShare: number;
  insideRetryAfterWindow: number;
  inFlightAtAnnouncement: number;
  byStatus: Record<string, number>;
}

interface Variant {
  kind: WorkerKind;
  retryAfter: RetryAfterFormat;
  label: string;
  ours: boolean;
}

export const throttled: Scenario = {
  id: 'throttled',
  title: 'Throttled efficiency against an Intune-like sliding window',
  async run(env: ScenarioEnv) {
    const limit = env.realLimit ? { limit: 200, windowMs: 20_000 } : { limit: 20, windowMs: 2000 };
    // About a minute at the limit's pace in a full run; a window and a half in quick mode.
    const n =
      env.mode === 'quick'
        ? Math.round(limit.limit * 1.2)
        : Math.round((60_000 * limit.limit) / limit.windowMs);
    const variants: Variant[] = [
      { kind: 'offboard', retryAfter: 'seconds', label: 'offboard', ours: true },
      { kind: 'sdk-retry', retryAfter: 'seconds', label: 'SDK RetryHandler style', ours: false },
    ];
    if (env.mode === 'full') {
      variants.push(
        { kind: 'offboard', retryAfter: 'none', label: 'offboard, 429 without Retry-After', ours: true },
        { kind: 'sdk-retry', retryAfter: 'none', label: 'SDK style, 429 without Retry-After', ours: false },
      );
    }
    const redis = await startBenchRedis();
    const sim = await startSimulator({
      latencyMs: SIM_LATENCY_MS,
      limit: { ...limit, retryAfter: 'seconds' },
    });
    const runs: Record<string, ThrottledRun[]> = {};
    try {
      await repeat(env, S, async (_rep, flip) => {
        for (const v of flip ? [...variants].reverse() : variants) {
          await redis.client.flushall();
          sim.control({ latencyMs: SIM_LATENCY_MS, limit: { ...limit, retryAfter: v.retryAfter } });
          const d = await drain({
            kind: v.kind,
            processes: PROCESSES,
            concurrency: CONCURRENCY,
            n,
            sim,
            redis,
            rateLimit: `${limit.limit}/${limit.windowMs}ms`,
            timeoutMs: ((n * limit.windowMs) / limit.limit) * 6 + 120_000,
          });
          const idealMs = (d.completed * limit.windowMs) / limit.limit;
          const r: ThrottledRun = {
            n,
            succeeded: d.completed,
            failed: n - d.completed,
            idealMs,
            actualMs: d.elapsedMs,
            efficiency: idealMs / d.elapsedMs,
            calls: d.graph.calls,
            throttled: d.graph.throttled,
            throttledShare: d.graph.calls ? (d.graph.throttled / d.graph.calls) * 100 : 0,
            insideRetryAfterWindow: d.graph.insideRetryAfterWindow,
            inFlightAtAnnouncement: d.graph.inFlightAtAnnouncement,
            byStatus: d.graph.byStatus,
          };
          env.log(
            `    ${v.label}: efficiency ${r.efficiency.toFixed(3)}, 429 ${r.throttledShare.toFixed(1)} %, ` +
              `inside Retry-After ${r.insideRetryAfterWindow}, failed ${r.failed}/${n}, ${(r.actualMs / 1000).toFixed(1)} s`,
          );
          runs[v.label] = [...(runs[v.label] ?? []), r];
        }
      });
    } finally {
      await sim.close();
      await redis.stop();
    }
    const figures: Figure[] = [];
    for (const v of variants) {
      const rs = runs[v.label] ?? [];
      const name = (m: string) => `${v.label}: ${m}`;
      figures.push(
        figure(
          S,
          name('efficiency (ideal ÷ actual time)'),
          'x',
          summarize(rs.map((r) => r.efficiency)),
          v.ours ? { op: '>=', value: 0.95 } : undefined,
        ),
        figure(
          S,
          name('calls answered 429'),
          '%',
          summarize(rs.map((r) => r.throttledShare)),
          v.ours ? { op: '<=', value: 1 } : undefined,
        ),
        figure(
          S,
          name('calls inside announced Retry-After windows'),
          'calls',
          summarize(rs.map((r) => r.insideRetryAfterWindow)),
          v.ours && v.retryAfter !== 'none' ? { op: '<=', value: 0 } : undefined,
        ),
        figure(S, name('failed jobs'), 'jobs', summarize(rs.map((r) => r.failed))),
      );
    }
    return {
      figures,
      details: {
        n,
        limit,
        processes: PROCESSES,
        concurrency: CONCURRENCY,
        simLatencyMs: SIM_LATENCY_MS,
        runs,
      },
    };
  },
};
