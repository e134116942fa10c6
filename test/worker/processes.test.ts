// Rows of the failure table that need real worker PROCESSES: the global Retry-After gate across two
// processes, a worker killed with SIGKILL mid-batch (stall recovery), and SIGTERM (drain, exit 0).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import type { QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { type Simulator, startSimulator } from '../../src/sim/index.js';
import type { ManagedProcess } from '../helpers/processes.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import {
  closeQueueContext,
  enqueueUsers,
  openContext,
  spawnTestWorker,
  uniquePrefix,
  waitFor,
  waitForOutcomes,
  workerConfig,
  workerEnv,
} from '../helpers/worker.js';

// Requests that reach the fake this soon after a 429 left were already on the wire (allowed).
const GRACE_MS = 150;

let redis: TestRedis;
let sim: Simulator;
const procs: ManagedProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  sim = await startSimulator({ latencyMs: 20, violationGraceMs: GRACE_MS });
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop(10_000)));
  await sim.close();
  await redis.stop();
});

function spawn(name: string, env: Record<string, string | undefined>): ManagedProcess {
  const p = spawnTestWorker(name, env);
  procs.push(p);
  return p;
}

const users = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}@contoso.com`);

describe('Retry-After across two worker processes', () => {
  let prefix: string;
  let config: Config;
  let ctx: QueueContext;
  let workers: ManagedProcess[];

  beforeAll(async () => {
    prefix = uniquePrefix(redis.prefix);
    const env = workerEnv(redis, sim, prefix, { GRAPH_RATE_LIMIT: '30/1s', WORKER_CONCURRENCY: '4' });
    config = workerConfig(redis, sim, prefix);
    ctx = openContext(config);
    workers = [spawn('ra-1', env), spawn('ra-2', env)];
    await Promise.all(workers.map((w) => w.waitForOutput(/worker started/)));
  });
  afterEach(async () => {
    sim.reset();
    sim.control({ limit: null });
    await ctx.redis.del(keys.pacer(prefix), keys.throttleGate(prefix));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop(10_000)));
    await closeQueueContext(ctx);
  });

  /** Asserts both processes made calls and all jobs retired; returns the simulator log. */
  async function runBatch(ids: string[]) {
    const out = await waitForOutcomes(ctx, ids, 60_000);
    for (const o of out) expect(o.record?.outcome, `job ${o.id} (${o.state})`).toBe('retired');
    const actors = new Set(
      (await readAudit(ctx, { count: 2000 })).filter((e) => e.type === 'attempt').map((e) => e.actor),
    );
    expect(actors.size).toBe(2);
    return sim.stats().graph;
  }

  it('after a 429 with `Retry-After: 2` no process starts a request for 2 s', async () => {
    sim.control({ script: { 'ra2-0@contoso.com': [{ status: 429, retryAfter: '2' }] } });
    const ids = await enqueueUsers(ctx, users('ra2-', 24));
    const graph = await runBatch(ids);
    expect(graph.byStatus['429']).toBe(1);
    expect(graph.insideRetryAfterWindow).toBe(0);
    const t0 = graph.log.find((e) => e.status === 429)?.at as number;
    const inside = graph.log.filter((e) => e.at > t0 + GRACE_MS && e.at < t0 + 2000);
    expect(inside).toEqual([]);
    // The batch did carry on afterwards (the gate lifted for everyone).
    expect(graph.log.filter((e) => e.at >= t0 + 2000).length).toBeGreaterThan(0);
  });

  it('fractional Retry-After (`1.5`) is honoured to the millisecond', async () => {
    sim.control({ script: { 'ra15-0@contoso.com': [{ status: 429, retryAfter: '1.5' }] } });
    const ids = await enqueueUsers(ctx, users('ra15-', 16));
    const graph = await runBatch(ids);
    const t0 = graph.log.find((e) => e.status === 429)?.at as number;
    expect(graph.log.filter((e) => e.at > t0 + GRACE_MS && e.at < t0 + 1500)).toEqual([]);
    expect(graph.insideRetryAfterWindow).toBe(0);
  });

  it('the limiter answering with fractional and HTTP-date Retry-After: honoured, every job retired', async () => {
    for (const retryAfter of ['fractional', 'http-date'] as const) {
      sim.reset();
      // Workers pace at 30/s; the fake admits 5/s: they must be throttled, obey, and slow down.
      sim.control({ limit: { limit: 5, windowMs: 1000, retryAfter } });
      const ids = await enqueueUsers(ctx, users(`lim-${retryAfter}-`, 16));
      const graph = await runBatch(ids);
      expect(graph.byStatus['429'], retryAfter).toBeGreaterThanOrEqual(1);
      expect(graph.insideRetryAfterWindow, retryAfter).toBe(0);
    }
  });
});

describe('worker process lifecycle', () => {
  it('a worker killed with SIGKILL mid-batch: its jobs are recovered by the other, every job retired', async () => {
    const prefix = uniquePrefix(redis.prefix);
    const env = workerEnv(redis, sim, prefix, {
      GRAPH_RATE_LIMIT: '100/1s',
      WORKER_CONCURRENCY: '4',
      WORKER_STALLED_INTERVAL: '1s',
      WORKER_LOCK_DURATION: '2s',
    });
    sim.reset();
    sim.control({ latencyMs: 50 });
    const ctx = openContext(workerConfig(redis, sim, prefix));
    try {
      const a = spawn('kill-a', env);
      const b = spawn('kill-b', env);
      await Promise.all([a.waitForOutput(/worker started/), b.waitForOutput(/worker started/)]);
      const ids = await enqueueUsers(ctx, users('batch-', 200));
      await waitFor(async () => ((await ctx.retire.getJobCounts('completed')).completed ?? 0) >= 40, {
        what: '40 jobs done',
      });
      const killed = await a.kill('SIGKILL');
      expect(killed.signal).toBe('SIGKILL');
      const out = await waitForOutcomes(ctx, ids, 90_000);
      const notRetired = out.filter((o) => o.record?.outcome !== 'retired');
      expect(notRetired).toEqual([]);
      expect(await ctx.deadLetter.getJobCountByTypes('waiting')).toBe(0);
      const success = sim.stats().graph.successByUser;
      for (const u of users('batch-', 200)) expect(success[u], u).toBeGreaterThanOrEqual(1);
      await b.stop(10_000);
    } finally {
      sim.control({ latencyMs: 20 });
      await closeQueueContext(ctx);
    }
  });

  it('SIGTERM: no new jobs are taken, jobs in flight finish, exit code 0', async () => {
    const prefix = uniquePrefix(redis.prefix);
    const env = workerEnv(redis, sim, prefix, { WORKER_CONCURRENCY: '3', SHUTDOWN_TIMEOUT: '20s' });
    sim.reset();
    sim.control({ latencyMs: 1500 });
    const ctx = openContext(workerConfig(redis, sim, prefix));
    try {
      const w = spawn('sigterm', env);
      await w.waitForOutput(/worker started/);
      const ids = await enqueueUsers(ctx, users('term-', 6));
      await waitFor(() => sim.stats().graph.calls >= 3, { what: '3 calls in flight' });
      const exit = await w.stop(30_000);
      expect(exit).toEqual({ code: 0, signal: null });
      const states = await Promise.all(ids.map((id) => ctx.retire.getJobState(id)));
      // The three in flight completed; the other three were never started and wait, attempts intact.
      expect(
        states.filter((s) => s === 'completed'),
        w.output(),
      ).toHaveLength(3);
      expect(states.filter((s) => s === 'waiting')).toHaveLength(3);
      expect(sim.stats().graph.calls).toBe(3);
      expect(await ctx.retire.getJobCounts('active')).toEqual({ active: 0 });
      expect(w.output()).toMatch(/worker stopped/);
    } finally {
      sim.control({ latencyMs: 20 });
      await closeQueueContext(ctx);
    }
  });
});
