// Helpers for worker tests: the environment a worker needs to talk to a private Redis and the
// simulator, in-process or child-process workers, enqueueing, and waiting for terminal outcomes.
import type { Config } from '../../src/config/load.js';
import { type RunningWorker, type StartWorkerOptions, startWorker } from '../../src/host/run-process.js';
import { enqueueMany } from '../../src/intake/enqueue.js';
import type { DeadLetterData, RetireRecord } from '../../src/interfaces.js';
import { createLogger } from '../../src/log.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { deadLetterId } from '../../src/queue/names.js';
import type { Simulator } from '../../src/sim/index.js';
import { testConfig } from './config.js';
import { type ManagedProcess, spawnWorker } from './processes.js';
import type { TestRedis } from './redis.js';

/** Environment for a worker against this Redis prefix and simulator. Overrides win. */
export function workerEnv(
  redis: Pick<TestRedis, 'url'>,
  sim: Simulator,
  prefix: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    ...sim.env(),
    GRAPH_RATE_LIMIT: '1000/1s',
    WORKER_CONCURRENCY: '4',
    RETRY_BASE: '50ms',
    RETRY_CAP: '1s',
    GRAPH_TIMEOUT: '5s',
    LOG_LEVEL: 'silent',
    // The worker tests written before evidence describe the write path alone (EVIDENCE=off is exactly
    // that behaviour); tests of the inventory and verification pass EVIDENCE: 'on'.
    EVIDENCE: 'off',
    ...overrides,
  };
}

export function workerConfig(
  redis: Pick<TestRedis, 'url'>,
  sim: Simulator,
  prefix: string,
  overrides: Record<string, string | undefined> = {},
): Config {
  return testConfig(workerEnv(redis, sim, prefix, overrides), { needAuth: true });
}

export interface InProcessWorker extends RunningWorker {
  config: Config;
}

/** A worker in this process (fast; for rows of the failure table that need no separate process). */
export async function startTestWorker(
  config: Config,
  opts: StartWorkerOptions = {},
): Promise<InProcessWorker> {
  // The sweep worker is covered by the schedule tests and by child-process workers here.
  const running = await startWorker(config, {
    logger: createLogger({ level: 'silent' }),
    sweep: false,
    ...opts,
  });
  return { ...running, config };
}

/** `node dist/cli.js worker` with output in test-artifacts/faults/worker-<name>.log. */
export function spawnTestWorker(name: string, env: Record<string, string | undefined>): ManagedProcess {
  // Tests wait for log lines (`worker started`), so child workers always log at info.
  return spawnWorker({ name, env: { ...env, LOG_LEVEL: 'info' }, group: 'worker' });
}

let prefixCounter = 0;
export function uniquePrefix(base: string): string {
  return `${base}w${++prefixCounter}`;
}

export function openContext(config: Config): QueueContext {
  return createQueueContext(config);
}

export { closeQueueContext };

/** Enqueues users as a batch from the CLI; returns their job ids in order. */
export async function enqueueUsers(
  ctx: QueueContext,
  users: string[],
  extra: { dryRun?: boolean } = {},
): Promise<string[]> {
  const results = await enqueueMany(
    ctx,
    users.map((user) => ({ user, ...extra })),
    { requestedBy: 'test', source: 'cli' },
  );
  return results.map((r) => {
    if (r.status === 'invalid') throw new Error(`invalid test user ${r.user}: ${r.error}`);
    return r.id;
  });
}

/** Polls until `fn` returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

export interface JobOutcome {
  id: string;
  state: string;
  attemptsMade: number;
  record?: RetireRecord;
  deadLetter?: DeadLetterData;
}

export async function outcomeOf(ctx: QueueContext, id: string): Promise<JobOutcome> {
  const job = await ctx.retire.getJob(id);
  const state = job ? await job.getState() : 'missing';
  const dl = await ctx.deadLetter.getJob(deadLetterId(id));
  return {
    id,
    state,
    attemptsMade: job?.attemptsMade ?? 0,
    ...(job?.returnvalue ? { record: job.returnvalue as RetireRecord } : {}),
    ...(dl?.data ? { deadLetter: dl.data } : {}),
  };
}

/** Waits until every job is completed or failed, then returns their outcomes in order. */
export async function waitForOutcomes(
  ctx: QueueContext,
  ids: string[],
  timeoutMs = 30_000,
): Promise<JobOutcome[]> {
  await waitFor(
    async () => {
      const counts = await ctx.retire.getJobCounts('completed', 'failed');
      if ((counts.completed ?? 0) + (counts.failed ?? 0) < ids.length) return false;
      const states = await Promise.all(ids.map((id) => ctx.retire.getJobState(id)));
      return states.every((s) => s === 'completed' || s === 'failed');
    },
    { timeoutMs, what: `${ids.length} job(s) to finish` },
  );
  return Promise.all(ids.map((id) => outcomeOf(ctx, id)));
}
