// The system under test for one measurement: the product's environment for a simulator and a
// private Redis, a queue context in the bench process, and the retire workload itself.
import { randomUUID } from 'node:crypto';
import type { Config } from '../../src/config/load.js';
import { loadConfig } from '../../src/config/load.js';
import { enqueueMany } from '../../src/intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import type { Simulator } from '../../src/sim/index.js';

export interface EnvOptions {
  redisUrl: string;
  /** A fresh prefix per measurement, so no pacer or gate state carries over. */
  prefix: string;
  sim: Simulator;
  concurrency: number;
  /** GRAPH_RATE_LIMIT; default: far above anything reachable (the pacer still runs, it never waits). */
  rateLimit?: string;
}

export const UNLIMITED_RATE = '1000000/1s';

/** Environment in the product's own variable names; the baselines read the same names. */
export function systemEnv(o: EnvOptions): Record<string, string> {
  return {
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: o.prefix,
    ...o.sim.env(),
    WORKER_CONCURRENCY: String(o.concurrency),
    GRAPH_RATE_LIMIT: o.rateLimit ?? UNLIMITED_RATE,
    LOG_LEVEL: 'warn',
    // The scenarios compare one POST per job with the baselines; the throttled scenario turns the
    // device inventory (a read before each POST, on its own budget) on for its evidence variant.
    EVIDENCE: 'off',
  };
}

let seq = 0;
export function freshPrefix(tag: string): string {
  return `bench-${tag}-${process.pid}-${++seq}`;
}

export function benchConfig(env: Record<string, string>): Config {
  return loadConfig({ ...env, LOG_LEVEL: 'silent' });
}

export function openContext(env: Record<string, string>): QueueContext {
  return createQueueContext(benchConfig(env), { name: 'bench' });
}

export { closeQueueContext };

/** Distinct, valid UPNs; the run id keeps users unique across measurements sharing one simulator. */
export function leavers(n: number, runId = randomUUID().slice(0, 8)): string[] {
  return Array.from({ length: n }, (_, i) => `leaver-${runId}-${i}@contoso.example`);
}

/**
 * Puts N retire jobs in Redis exactly as the product's intake does (same data, options, dedupe and
 * audit). The caller pauses the queue first, so the timed part starts only when `release` is called.
 */
export async function addJobs(ctx: QueueContext, users: readonly string[]): Promise<void> {
  const results = await enqueueMany(
    ctx,
    users.map((user) => ({ user })),
    { requestedBy: 'bench', source: 'batch' },
    { chunkSize: 2000 },
  );
  const bad = results.find((r) => r.status !== 'accepted');
  if (bad) throw new StagingError(`the intake refused a benchmark job: ${JSON.stringify(bad)}`);
}

export class StagingError extends Error {
  override readonly name = 'StagingError';
}

/** Jobs ended failed or dead-lettered where the scenario needs every one retired. */
export class IncompleteWorkloadError extends Error {
  override readonly name = 'IncompleteWorkloadError';
}

/** Starts the clock and lets workers take jobs. */
export async function release(ctx: QueueContext): Promise<number> {
  const t0 = Date.now();
  await ctx.retire.resume();
  return t0;
}

export interface Terminal {
  completed: number;
  failed: number;
  deadLettered: number;
  /** Latest finishedOn among the finished jobs (Redis-recorded, ms since the epoch). */
  lastFinishedAt: number;
}

export class WorkloadTimeoutError extends Error {
  override readonly name = 'WorkloadTimeoutError';
}

/** Polls until every job has a terminal state; the end time comes from the jobs' own finishedOn. */
export async function waitForTerminal(ctx: QueueContext, n: number, timeoutMs: number): Promise<Terminal> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await ctx.retire.getJobCounts('completed', 'failed');
    const dl = await ctx.deadLetter.count();
    const completed = counts.completed ?? 0;
    const failed = counts.failed ?? 0;
    // A dead-lettered job may also complete or fail on the retire queue: count it once.
    if (completed + Math.max(failed, dl) >= n) {
      return { completed, failed, deadLettered: dl, lastFinishedAt: await lastFinished(ctx) };
    }
    if (Date.now() > deadline) {
      throw new WorkloadTimeoutError(
        `only ${completed} completed, ${failed} failed, ${dl} dead-lettered of ${n} after ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function lastFinished(ctx: QueueContext): Promise<number> {
  let last = 0;
  for (const state of ['completed', 'failed'] as const) {
    const [job] = await ctx.retire.getJobs([state], 0, 0, false);
    if (job?.finishedOn && job.finishedOn > last) last = job.finishedOn;
  }
  return last;
}
