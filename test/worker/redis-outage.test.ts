// Redis goes away mid-batch and comes back: the worker process reconnects by itself and every job
// still ends retired (the AOF keeps the queue across the restart, as a production Redis would).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

let redis: TestRedis;
let sim: Simulator;
let worker: ManagedProcess | undefined;

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
  sim = await startSimulator({ latencyMs: 50 });
});
afterAll(async () => {
  await worker?.stop(10_000);
  await sim.close();
  await redis.stop();
});

describe('Redis outage', () => {
  it('a worker reconnects after Redis restarts and finishes the batch', async () => {
    const prefix = uniquePrefix(redis.prefix);
    worker = spawnTestWorker('redis-outage', workerEnv(redis, sim, prefix, { GRAPH_RATE_LIMIT: '20/1s' }));
    await worker.waitForOutput(/worker started/);
    const users = Array.from({ length: 40 }, (_, i) => `outage-${i}@contoso.com`);
    let ctx = openContext(workerConfig(redis, sim, prefix));
    const ids = await enqueueUsers(ctx, users);
    await waitFor(async () => ((await ctx.retire.getJobCounts('completed')).completed ?? 0) >= 5, {
      what: '5 jobs done',
    });
    await closeQueueContext(ctx);
    await redis.restart({ downMs: 1500 });
    ctx = openContext(workerConfig(redis, sim, prefix));
    try {
      const out = await waitForOutcomes(ctx, ids, 60_000);
      expect(out.filter((o) => o.record?.outcome !== 'retired')).toEqual([]);
      expect(worker.running()).toBe(true);
      const success = sim.stats().graph.successByUser;
      for (const u of users) expect(success[u], u).toBeGreaterThanOrEqual(1);
    } finally {
      await closeQueueContext(ctx);
    }
  });
});
