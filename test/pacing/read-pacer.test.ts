// The read pacer against a real Redis: its own rate (GRAPH_READ_RATE_LIMIT) and keys; a 429 on a read
// gates reads only; reads never take a write slot; the circuit holds reads too.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getThrottleStatus } from '../../src/control/queue-control.js';
import { createPacer, PacerHoldError } from '../../src/pacing/pacer.js';
import { createReadPacer } from '../../src/pacing/read-pacer.js';
import { closeQueueContext, createQueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let client: Redis;
let n = 0;
const prefix = () => `${redis.prefix}r${++n}`;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

function config(p: string, env: Record<string, string> = {}) {
  return testConfig({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: p,
    GRAPH_RATE_LIMIT: '2/1s',
    GRAPH_READ_RATE_LIMIT: '20/1s',
    GRAPH_RATE_HEADROOM: '1',
    ...env,
  });
}

describe('read pacer', () => {
  it('paces reads at GRAPH_READ_RATE_LIMIT on keys of its own', async () => {
    const p = prefix();
    const reads = createReadPacer({ redis: client, prefix: p, config: config(p) });
    const started = Date.now();
    for (let i = 0; i < 6; i++) await reads.take();
    const elapsed = Date.now() - started;
    // 20/s = one every 50 ms: the 6th slot is 250 ms after the first, far faster than the write pace (2/s).
    expect(elapsed).toBeGreaterThanOrEqual(230);
    expect(elapsed).toBeLessThan(1000);
    expect(await client.exists(keys.readPacer(p))).toBe(1);
    expect(await client.exists(keys.pacer(p))).toBe(0);
  });

  it('a 429 on a read gates reads only: writes take their slot at once', async () => {
    const p = prefix();
    const cfg = config(p);
    const reads = createReadPacer({ redis: client, prefix: p, config: cfg });
    const writes = createPacer({ redis: client, prefix: p, rate: cfg.graph.rateLimit });
    const report = await reads.onThrottled(2000);
    expect(report.gateUntil).toBeGreaterThan(Date.now() + 1500);
    expect(await reads.acquire()).toBeGreaterThan(1500);
    // The write budget is untouched: no gate, factor 1, a slot at once.
    expect(await writes.acquire()).toBe(0);
    const ctx = createQueueContext(cfg);
    try {
      const status = await getThrottleStatus(ctx);
      expect(status.pausedUntil).toBeNull();
      expect(status.factor).toBe(1);
    } finally {
      await closeQueueContext(ctx);
    }
    expect(Number(await client.get(keys.readThrottleGate(p)))).toBe(report.gateUntil);
    expect(await client.exists(keys.throttleGate(p))).toBe(0);
  });

  it('reads never take a write slot: a burst of reads leaves the write pace where it was', async () => {
    const p = prefix();
    const cfg = config(p, { GRAPH_READ_RATE_LIMIT: '1000/1s' });
    const reads = createReadPacer({ redis: client, prefix: p, config: cfg });
    const writes = createPacer({ redis: client, prefix: p, rate: cfg.graph.rateLimit });
    expect(await writes.acquire()).toBe(0);
    await Promise.all(Array.from({ length: 30 }, () => reads.take()));
    // The next write is due 500 ms after the first (2/s), not pushed back by 30 reads.
    const wait = await writes.acquire();
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(500);
  });

  it('a write 429 does not gate reads', async () => {
    const p = prefix();
    const cfg = config(p);
    const reads = createReadPacer({ redis: client, prefix: p, config: cfg });
    const writes = createPacer({ redis: client, prefix: p, rate: cfg.graph.rateLimit });
    await writes.onThrottled(3000);
    expect(await writes.acquire()).toBeGreaterThan(2000);
    expect(await reads.acquire()).toBe(0);
  });

  it('the open circuit holds reads as well', async () => {
    const p = prefix();
    const reads = createReadPacer({ redis: client, prefix: p, config: config(p) });
    await client.set(keys.circuit(p), JSON.stringify({ code: 'read_permission_missing' }));
    await expect(reads.take()).rejects.toBeInstanceOf(PacerHoldError);
  });
});
