// One timed drain of N staged retire jobs by a fleet of worker processes: the measurement behind
// the pipeline-overhead, scaling and memory scenarios.
import type { SimStats, Simulator } from '../../src/sim/index.js';
import type { ScriptStep } from '../../src/sim/types.js';
import { startFleet, type WorkerKind } from './fleet.js';
import { type BenchRedis, callsDelta } from './redis.js';
import {
  addJobs,
  closeQueueContext,
  freshPrefix,
  leavers,
  openContext,
  release,
  systemEnv,
  type Terminal,
  waitForTerminal,
} from './system.js';

export interface DrainOptions {
  kind: WorkerKind;
  processes: number;
  concurrency: number;
  n: number;
  sim: Simulator;
  redis: BenchRedis;
  /** GRAPH_RATE_LIMIT for every worker kind's environment; default unlimited. */
  rateLimit?: string;
  cpuProfDir?: string;
  /** Called once the bench's own connection is open, before staging (memory baseline). */
  beforeStage?: () => Promise<void>;
  /** Called after the drain with the workers stopped, before the bench disconnects (memory scenario). */
  inspect?: () => Promise<void>;
  timeoutMs?: number;
  /** The users to retire (default N fresh `leaver-…` users, all answered 204). */
  users?: readonly string[];
  /** Scripted simulator answers per user, applied after the simulator's reset. */
  script?: Record<string, ScriptStep[]>;
  /** More settings for every worker process (e.g. GRAPH_TIMEOUT). */
  env?: Record<string, string>;
}

export interface DrainResult extends Terminal {
  n: number;
  /** Release → last job finished. */
  elapsedMs: number;
  /** When the queue was released (ms since the epoch). */
  releasedAt: number;
  /** Completed jobs per second of elapsed time. */
  jobsPerSec: number;
  /** The simulator's counters for this drain (without the call log). */
  graph: Omit<SimStats['graph'], 'log'>;
  /** Device reads the simulator answered (the inventory, with EVIDENCE=on). */
  reads: NonNullable<SimStats['reads']>;
  /** Redis commands per job while draining (the bench's own 20 ms polling included), by command. */
  redisCallsPerJob: Record<string, number>;
  /** CPU time the worker processes used per completed job while draining (ms). */
  workerCpuMsPerJob: number;
}

export async function drain(o: DrainOptions): Promise<DrainResult> {
  // Clears counters and limiter windows; the limit and latency set by the caller stay.
  o.sim.reset();
  if (o.script) o.sim.control({ script: o.script });
  const env = {
    ...systemEnv({
      redisUrl: o.redis.url,
      prefix: freshPrefix(o.kind),
      sim: o.sim,
      concurrency: o.concurrency,
      rateLimit: o.rateLimit,
    }),
    ...o.env,
  };
  const ctx = openContext(env);
  try {
    await ctx.redis.ping();
    await o.beforeStage?.();
    // Paused first, so the fleet can start while the jobs are being added.
    await ctx.retire.pause();
    const [, fleet] = await Promise.all([
      addJobs(ctx, o.users ?? leavers(o.n)),
      startFleet({ kind: o.kind, processes: o.processes, env, cpuProfDir: o.cpuProfDir }),
    ]);
    let term: Terminal;
    let t0: number;
    let calls: Record<string, number>;
    let cpuMs: number;
    try {
      const before = await o.redis.commandCalls();
      const cpuBefore = fleet.cpuMs();
      t0 = await release(ctx);
      term = await waitForTerminal(ctx, o.n, o.timeoutMs ?? 300_000);
      cpuMs = fleet.cpuMs() - cpuBefore;
      calls = callsDelta(before, await o.redis.commandCalls(), o.n);
    } finally {
      await fleet.stop();
    }
    const elapsedMs = Math.max(1, term.lastFinishedAt - t0);
    const stats = o.sim.stats();
    const { log: _log, ...graph } = stats.graph;
    const reads = stats.reads ?? {
      calls: 0,
      byStatus: {},
      byUser: {},
      throttled: 0,
      insideRetryAfterWindow: 0,
    };
    await o.inspect?.();
    return {
      ...term,
      n: o.n,
      elapsedMs,
      releasedAt: t0,
      jobsPerSec: (term.completed / elapsedMs) * 1000,
      graph,
      reads,
      redisCallsPerJob: calls,
      workerCpuMsPerJob: cpuMs / Math.max(1, term.completed),
    };
  } finally {
    await closeQueueContext(ctx);
  }
}
