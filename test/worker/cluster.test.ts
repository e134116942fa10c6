// The worker on Redis Cluster with a hash-tagged prefix: BullMQ's scripts and ours (pacer, throttle
// gate, 403 counter) must touch keys of one slot only, or Redis answers CROSSSLOT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getThrottleStatus } from '../../src/control/queue-control.js';
import type { QueueContext } from '../../src/queue/context.js';
import { type Simulator, startSimulator } from '../../src/sim/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import {
  closeQueueContext,
  enqueueUsers,
  type InProcessWorker,
  openContext,
  startTestWorker,
  waitForOutcomes,
  workerConfig,
} from '../helpers/worker.js';

let cluster: TestCluster;
let sim: Simulator;
let ctx: QueueContext;
let worker: InProcessWorker;

beforeAll(async () => {
  cluster = await startCluster();
  sim = await startSimulator({ latencyMs: 5 });
  const config = workerConfig(cluster, sim, cluster.prefix, { CIRCUIT_FORBIDDEN_THRESHOLD: '5' });
  ctx = openContext(config);
  worker = await startTestWorker(config);
}, 120_000);
afterAll(async () => {
  await worker?.close();
  if (ctx) await closeQueueContext(ctx);
  await sim?.close();
  await cluster?.stop();
});

describe('worker on Redis Cluster', () => {
  it('paces, honours a Retry-After gate, counts a 403 and retires', async () => {
    const ids = await enqueueUsers(ctx, [
      'throttle-ann@contoso.com',
      'forbidden-bo@contoso.com',
      'cy@contoso.com',
    ]);
    const out = await waitForOutcomes(ctx, ids);
    expect(out[0]?.record).toMatchObject({ outcome: 'retired', throttledWaits: 1 });
    expect(out[1]?.deadLetter?.reason).toBe('forbidden');
    expect(out[2]?.record?.outcome).toBe('retired');
    expect(sim.stats().graph.insideRetryAfterWindow).toBe(0);
    expect((await getThrottleStatus(ctx)).factor).toBeLessThan(1);
  });
});
