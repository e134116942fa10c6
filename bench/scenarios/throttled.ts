// 1. Throttled efficiency: N retire jobs against an Intune-like sliding window, with the shipped
// defaults (2 worker processes × WORKER_CONCURRENCY 10, GRAPH_RATE_LIMIT = the simulator's limit),
// beside the same workload done the way most tools do it (per-request SDK RetryHandler retries).
// The `evidence on` variant reads each leaver's devices before the POST (EVIDENCE=on): reads are paced
// on their own budget (GRAPH_READ_RATE_LIMIT, half the simulator's read limit, which is 10× the write
// limit as in Intune), so its WRITE efficiency should match the plain run; it reports reads per leaver.
// Every leaver has at least one device, so every variant sends the same POSTs.
import { defaultDevices } from '../../src/sim/graph/devices.js';
import { type RetryAfterFormat, startSimulator } from '../../src/sim/index.js';
import { type Figure, figure, repeat, type Scenario, type ScenarioEnv } from '../lib/figures.js';
import type { WorkerKind } from '../lib/fleet.js';
import { startBenchRedis } from '../lib/redis.js';
import { summarize } from '../lib/stats.js';
import { leavers } from '../lib/system.js';
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
  /** Device reads (inventory pages) per leaver; 0 with evidence off. */
  readsPerLeaver: number;
  readThrottled: number;
}

interface Variant {
  kind: WorkerKind;
  retryAfter: RetryAfterFormat;
  label: string;
  ours: boolean;
  /** EVIDENCE=on: inventory before each POST. */
  evidence?: boolean;
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
      { kind: 'offboard', retryAfter: 'seconds', label: 'offboard, evidence on', ours: true, evidence: true },
      { kind: 'sdk-retry', retryAfter: 'seconds', label: 'SDK RetryHandler style', ours: false },
    ];
    // Intune: device reads 2,000 per 20 s per app, 10× the writes; offboard aims at half of it.
    const readLimit = { limit: limit.limit * 10, windowMs: limit.windowMs };
    const readRate = `${limit.limit * 5}/${limit.windowMs}ms`;
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
          sim.control({
            latencyMs: SIM_LATENCY_MS,
            limit: { ...limit, retryAfter: v.retryAfter },
            readLimit: { ...readLimit, retryAfter: v.retryAfter },
          });
          const d = await drain({
            users: withDevices(n),
            ...(v.evidence
              ? { env: { EVIDENCE: 'on', GRAPH_READ_RATE_LIMIT: readRate, VERIFY_AFTER: '1h' } }
              : {}),
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
            readsPerLeaver: d.reads.calls / n,
            readThrottled: d.reads.throttled,
          };
          env.log(
            `    ${v.label}: efficiency ${r.efficiency.toFixed(3)}, 429 ${r.throttledShare.toFixed(1)} %, ` +
              `inside Retry-After ${r.insideRetryAfterWindow}, failed ${r.failed}/${n}, ${(r.actualMs / 1000).toFixed(1)} s` +
              (v.evidence
                ? `, reads per leaver ${r.readsPerLeaver.toFixed(2)} (read 429s ${r.readThrottled})`
                : ''),
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
      if (v.evidence) {
        figures.push(
          figure(S, name('reads per leaver'), 'reads', summarize(rs.map((r) => r.readsPerLeaver))),
          figure(S, name('reads answered 429'), 'reads', summarize(rs.map((r) => r.readThrottled)), {
            op: '<=',
            value: 0,
          }),
        );
      }
    }
    return {
      figures,
      details: {
        n,
        limit,
        processes: PROCESSES,
        concurrency: CONCURRENCY,
        simLatencyMs: SIM_LATENCY_MS,
        readLimit,
        readRate,
        runs,
      },
    };
  },
};

/** N fresh leavers who each have at least one device in the simulator (the same POSTs in every variant). */
function withDevices(n: number): string[] {
  const out: string[] = [];
  while (out.length < n) {
    for (const u of leavers(n)) if (out.length < n && defaultDevices(u).length > 0) out.push(u);
  }
  return out;
}
