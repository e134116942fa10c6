// The shared pacer against a real Redis: two pacers (two clients, as two processes would be) never
// exceed the rate over any sliding window, the Retry-After gate holds every caller, the factor adapts.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { getThrottleStatus } from '../../src/queue/control.js';
import { keys } from '../../src/queue/names.js';
import { createPacer, PacerHoldError } from '../../src/worker/pacer.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let a: Redis;
let b: Redis;
let n = 0;
const prefix = () => `${redis.prefix}p${++n}`;

beforeAll(async () => {
  redis = await startRedis();
  a = new Redis(redis.url);
  b = new Redis(redis.url);
});
afterAll(async () => {
  a.disconnect();
  b.disconnect();
  await redis.stop();
});

/** Largest number of grants inside any window of `windowMs` (timestamps sorted). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] as number) - (times[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe('pacer', () => {
  it('two pacers sharing a key never exceed the limit over a sliding window, and are not starved', async () => {
    const p = prefix();
    const rate = { limit: 20, windowMs: 1000 };
    const pacers = [createPacer({ redis: a, prefix: p, rate }), createPacer({ redis: b, prefix: p, rate })];
    const grants: number[] = [];
    const until = Date.now() + 3000;
    // Four concurrent takers per pacer, like a worker with concurrency 4 in each of two processes.
    await Promise.all(
      pacers.flatMap((pacer) =>
        Array.from({ length: 4 }, async () => {
          while (Date.now() < until) {
            await pacer.take();
            grants.push(Date.now());
          }
        }),
      ),
    );
    grants.sort((x, y) => x - y);
    // Local timestamps trail Redis's clock by a few ms at most: a slightly shorter window is the
    // fair reading of "≤ 20 per 1000 ms on the Redis clock".
    expect(maxInWindow(grants, 980)).toBeLessThanOrEqual(20);
    // Evenly spaced at 97 % of 20/s (one per 51.5 ms): the pace is kept, neither exceeded nor starved.
    const span = (grants.at(-1) as number) - (grants[0] as number);
    expect(span).toBeGreaterThan(2900);
    expect(grants.length).toBeLessThanOrEqual(Math.floor(span / 51.5) + 2);
    expect(grants.length).toBeGreaterThanOrEqual(Math.floor((span / 51.5) * 0.85));
    // No burst: consecutive grants are roughly one interval (1000 / 19.4 ≈ 51.5 ms) apart.
    const gaps = grants.slice(1).map((t, i) => t - (grants[i] as number));
    const tight = gaps.filter((g) => g < 35).length;
    expect(tight).toBeLessThanOrEqual(2);
  });

  it('after onThrottled(Retry-After) no pacer grants a slot until it has elapsed', async () => {
    const p = prefix();
    const rate = { limit: 100, windowMs: 1000 };
    const one = createPacer({ redis: a, prefix: p, rate });
    const two = createPacer({ redis: b, prefix: p, rate });
    const before = Date.now();
    const report = await one.onThrottled(600);
    expect(report.gateUntil).toBeGreaterThanOrEqual(before + 600);
    const wait = await two.acquire();
    expect(wait).toBeGreaterThan(400);
    // The gate is whole ms rounded up, so the wait may read one ms over.
    expect(wait).toBeLessThanOrEqual(601);
    await two.take();
    expect(Date.now() - before).toBeGreaterThanOrEqual(599);
    // The gate is stored where getThrottleStatus reads it.
    expect(Number(await a.get(keys.throttleGate(p)))).toBe(report.gateUntil);
  });

  it('a shorter Retry-After never shortens a longer gate', async () => {
    const p = prefix();
    const one = createPacer({ redis: a, prefix: p, rate: { limit: 100, windowMs: 1000 } });
    const long = await one.onThrottled(2000);
    const short = await one.onThrottled(100);
    expect(short.gateUntil).toBe(long.gateUntil);
  });

  it('cuts the factor once per episode, floors it, and credits successes back', async () => {
    const p = prefix();
    const one = createPacer({ redis: a, prefix: p, rate: { limit: 100, windowMs: 1000 }, floor: 0.5 });
    expect((await one.onThrottled(undefined)).factor).toBeCloseTo(0.7, 5);
    // Same episode (within the cooldown): no second cut.
    expect((await one.onThrottled(undefined)).factor).toBeCloseTo(0.7, 5);
    await a.hset(keys.pacer(p), 'cutAt', '0');
    expect((await one.onThrottled(undefined)).factor).toBeCloseTo(0.5, 5);
    for (let i = 0; i < 10; i++) one.onSuccess();
    await one.acquire();
    expect(Number(await a.hget(keys.pacer(p), 'factor'))).toBeCloseTo(0.6, 5);
    // A 5xx with Retry-After closes the gate without slowing the pace down.
    await a.hset(keys.pacer(p), 'cutAt', '0');
    expect((await one.onThrottled(10, { slowDown: false })).factor).toBeCloseTo(0.6, 5);
  });

  it('a slowed-down pacer spaces calls further apart', async () => {
    const p = prefix();
    const rate = { limit: 50, windowMs: 1000 };
    const one = createPacer({ redis: a, prefix: p, rate, headroom: 1 });
    await a.hset(keys.pacer(p), 'factor', '0.5');
    await one.take();
    const wait = await one.acquire();
    // Interval at factor 0.5 is 40 ms instead of 20 ms.
    expect(wait).toBeGreaterThan(25);
    expect(wait).toBeLessThanOrEqual(40);
  });

  it('holds every caller while the circuit is open', async () => {
    const p = prefix();
    const one = createPacer({ redis: a, prefix: p, rate: { limit: 10, windowMs: 1000 } });
    await a.set(keys.circuit(p), JSON.stringify({ open: true, code: 'test' }));
    await expect(one.acquire()).rejects.toBeInstanceOf(PacerHoldError);
    await expect(one.take()).rejects.toBeInstanceOf(PacerHoldError);
    await a.del(keys.circuit(p));
    expect(await one.acquire()).toBe(0);
  });

  it('a waiter aborted while queued leaves at once and takes no slot', async () => {
    const p = prefix();
    const one = createPacer({ redis: a, prefix: p, rate: { limit: 2, windowMs: 1000 }, headroom: 1 });
    await one.take();
    const ac = new AbortController();
    const blocked = one.take(ac.signal);
    const started = Date.now();
    ac.abort(new Error('stop'));
    await expect(blocked).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('getThrottleStatus reports the factor and the gate the pacer wrote', async () => {
    const p = prefix();
    const ctx: QueueContext = createQueueContext(
      testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: p, GRAPH_RATE_LIMIT: '20/2s' }),
    );
    try {
      const one = createPacer({ redis: a, prefix: p, rate: { limit: 20, windowMs: 2000 } });
      await one.onThrottled(5000);
      const status = await getThrottleStatus(ctx);
      expect(status.factor).toBeCloseTo(0.7, 5);
      expect(status.pausedUntil).not.toBeNull();
      expect(Date.parse(status.pausedUntil as string)).toBeGreaterThan(Date.now() + 3000);
    } finally {
      await closeQueueContext(ctx);
    }
  });
});
