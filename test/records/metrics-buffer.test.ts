// Fleet counters are buffered in the worker process and written about once a second: nothing reaches
// Redis per call, a flush writes the exact sums, and close() writes what is left (SIGTERM loses nothing).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphCallFields, incrementMetrics, MetricsBuffer, readMetrics } from '../../src/records/metrics.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let client: Redis;
let n = 0;
const prefix = () => `${redis.prefix}m${++n}`;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

describe('buffered fleet counters', () => {
  it('increments are held in the process, then written with exact sums on close', async () => {
    const p = prefix();
    const buffer = new MetricsBuffer(client, p, 60_000);
    for (let i = 0; i < 250; i++) {
      await incrementMetrics(client, p, graphCallFields(204, 0.03));
      await incrementMetrics(client, p, { 'outcome:retired': 1 });
    }
    await incrementMetrics(client, p, { 'dead_letter:not_found': 1 });
    // Nothing written yet: the interval (60 s here) has not passed.
    expect(await readMetrics(client, p)).toEqual({});
    await buffer.close();
    const m = await readMetrics(client, p);
    expect(m['graph_calls:204']).toBe(250);
    expect(m['outcome:retired']).toBe(250);
    expect(m['dead_letter:not_found']).toBe(1);
    expect(m['graph_latency_sum:204']).toBeCloseTo(7.5, 6);
    // After close, increments go straight to Redis again.
    await incrementMetrics(client, p, { 'outcome:retired': 1 });
    expect((await readMetrics(client, p))['outcome:retired']).toBe(251);
  });

  it('flushes by itself after the interval, and keeps the counts when a write fails', async () => {
    const p = prefix();
    const buffer = new MetricsBuffer(client, p, 100);
    await incrementMetrics(client, p, { retries: 3 });
    await new Promise((r) => setTimeout(r, 400));
    expect((await readMetrics(client, p)).retries).toBe(3);
    // A client that cannot reach Redis: the flush fails and the counts wait for the next one.
    const broken = new Redis({
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    broken.on('error', () => {});
    const held = new MetricsBuffer(broken, p, 60_000);
    held.add({ retries: 2 });
    await expect(held.flush()).rejects.toBeTruthy();
    held.add({ retries: 1 });
    // Hand the pending counts to a working client the way a retry would: read them back.
    const pending = (held as unknown as { pending: Map<string, number> }).pending;
    expect(pending.get('retries')).toBe(3);
    broken.disconnect();
    await buffer.close();
  });
});
