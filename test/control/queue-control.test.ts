// Pause, resume and the circuit (src/control/queue-control.ts): shared state in Redis, with audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getQueueStatus, openCircuit, pauseQueue, resumeQueue } from '../../src/control/queue-control.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let ctx: QueueContext;

beforeAll(async () => {
  redis = await startRedis();
  ctx = createQueueContext(testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix }));
});
afterAll(async () => {
  await closeQueueContext(ctx);
  await redis.stop();
});

describe('queue control', () => {
  it('pause and resume are shared state with reasons and audit', async () => {
    await pauseQueue(ctx, 'ops-alice', 'maintenance');
    let status = await getQueueStatus(ctx);
    expect(status.paused).toBe(true);
    expect(status.pause).toMatchObject({ reason: 'maintenance', actor: 'ops-alice' });
    await resumeQueue(ctx, 'ops-alice');
    status = await getQueueStatus(ctx);
    expect(status.paused).toBe(false);
    expect(status.pause).toBeNull();
  });

  it('the circuit opens once, pauses the queue, and an operator resume closes it', async () => {
    expect(await openCircuit(ctx, { code: 'invalid_client', reason: 'client secret rejected' })).toBe(true);
    expect(await openCircuit(ctx, { code: 'invalid_client', reason: 'again' })).toBe(false);
    let status = await getQueueStatus(ctx);
    expect(status.paused).toBe(true);
    expect(status.circuit).toMatchObject({ open: true, code: 'invalid_client' });
    const r = await resumeQueue(ctx, 'ops-carol');
    expect(r.circuitWasOpen).toBe(true);
    status = await getQueueStatus(ctx);
    expect(status.circuit.open).toBe(false);
    expect(status.paused).toBe(false);
    const audit = await readAudit(ctx, { count: 3 });
    expect(audit.map((a) => a.type)).toContain('circuit-open');
    // 200/20 s × GRAPH_RATE_HEADROOM 0.97: the pace the pacer really aims at.
    expect(status.throttle.ratePerSecond).toBe(9.7);
  });
});
