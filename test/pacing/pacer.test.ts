// The shared pacer against a real Redis: two pacers (two clients, as two processes would be) never
// exceed the rate over any sliding window, the Retry-After gate holds every caller, the factor adapts.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getThrottleStatus } from '../../src/control/queue-control.js';
import { createPacer, PacerHoldError } from '../../src/pacing/pacer.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
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

  it('reserve() takes a slot due within its horizon ahead of time; the grid moves one interval per slot', async () => {
    const p = prefix();
    // 10 per second at headroom 1: one slot every 100 ms.
    const rate = { limit: 10, windowMs: 1000 };
    const one = createPacer({ redis: a, prefix: p, rate, headroom: 1 });
    const two = createPacer({ redis: b, prefix: p, rate, headroom: 1 });
    expect(await one.acquire()).toBe(0);
    // The next slot is ~100 ms away: beyond a 50 ms horizon it is not taken, within 150 ms it is.
    const far = await two.reserve(50);
    expect(far.reserved).toBe(false);
    expect(far.wait).toBeGreaterThan(50);
    const near = await two.reserve(150);
    expect(near.reserved).toBe(true);
    expect(near.wait).toBeGreaterThan(50);
    expect(near.wait).toBeLessThanOrEqual(101);
    // Reserved: the slot after it is one more interval away, however late the sleeper will be.
    const after = await one.reserve(0);
    expect(after.reserved).toBe(false);
    expect(after.wait).toBeGreaterThan(near.wait + 50);
    // Never more than the rate: 30 reservations across both pacers keep 100 ms apart.
    const times: number[] = [];
    const take = async (pacer: typeof one) => {
      for (;;) {
        const r = await pacer.reserve(120);
        if (r.wait === 0 || r.reserved) {
          times.push(Date.now() + r.wait);
          return;
        }
        await new Promise((res) => setTimeout(res, r.wait - 100));
      }
    };
    for (let i = 0; i < 15; i++) await Promise.all([take(one), take(two)]);
    times.sort((x, y) => x - y);
    // Read on this side of a round trip (its jitter blurs each gap a little); in Redis they are exact.
    for (let i = 1; i < times.length; i++) {
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(70);
    }
    expect((times.at(-1) as number) - (times[0] as number)).toBeGreaterThanOrEqual(29 * 100 - 30);
  });

  it('shift() moves the slots not yet taken back, for every process, and keeps an idle expiry', async () => {
    const p = prefix();
    const rate = { limit: 10, windowMs: 1000 };
    const one = createPacer({ redis: a, prefix: p, rate, headroom: 1, idleTtlMs: 60_000 });
    const two = createPacer({ redis: b, prefix: p, rate, headroom: 1, idleTtlMs: 60_000 });
    expect(await one.acquire()).toBe(0);
    const before = await two.reserve(0);
    await one.shift(300);
    const after = await two.reserve(0);
    expect(after.reserved).toBe(false);
    expect(after.wait).toBeGreaterThanOrEqual(before.wait + 290);
    expect(await a.pttl(keys.pacer(p))).toBeGreaterThan(0);
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
    const one = createPacer({
      redis: a,
      prefix: p,
      rate: { limit: 100, windowMs: 1000 },
      floor: 0.5,
      step: 0.01,
    });
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

  it('a flaky minority of users (10 % failing) never cuts the pace; their Retry-After gates only them', async () => {
    const p = prefix();
    const one = createPacer({
      redis: a,
      prefix: p,
      rate: { limit: 1000, windowMs: 1000 },
      failure: { windowMs: 10_000, share: 0.5, minUsers: 20 },
    });
    for (let i = 0; i < 200; i++) {
      if (i % 10 === 3) {
        const v = await one.onFailure(`flaky${i}@contoso.com`, 2000);
        expect(v.systemic).toBe(false);
        expect(v.factor).toBe(1);
        expect(v.gateUntil).toBe(0);
      } else {
        one.onSuccess(`ok${i}@contoso.com`);
        if (i % 5 === 0) await one.acquire();
      }
    }
    await one.acquire();
    expect(Number((await a.hget(keys.pacer(p), 'factor')) ?? 1)).toBe(1);
    expect(await a.get(keys.throttleGate(p))).toBeNull();
  });

  it('below the minimum sample even all-failing calls are not systemic', async () => {
    const p = prefix();
    const one = createPacer({
      redis: a,
      prefix: p,
      rate: { limit: 1000, windowMs: 1000 },
      failure: { windowMs: 10_000, share: 0.5, minUsers: 20 },
    });
    for (let i = 0; i < 19; i++)
      expect((await one.onFailure(`u${i}@contoso.com`, undefined)).systemic).toBe(false);
    const v = await one.onFailure('u19@contoso.com', undefined);
    expect(v).toMatchObject({ systemic: true, failing: 20, sample: 20 });
    expect(v.factor).toBeCloseTo(0.5, 5);
  });

  it('a healthy answer anywhere ends a run of failures: 19 failing users, one success, 19 more is not systemic', async () => {
    const p = prefix();
    const one = createPacer({
      redis: a,
      prefix: p,
      rate: { limit: 1000, windowMs: 1000 },
      failure: { windowMs: 10_000, share: 0.5, minUsers: 20 },
    });
    for (let i = 0; i < 60; i++) one.onSuccess(`ok${i}@contoso.com`);
    await one.acquire();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 19; i++) {
        expect((await one.onFailure(`r${round}-${i}@contoso.com`, undefined)).systemic).toBe(false);
      }
      one.onSuccess(`ok-between-${round}@contoso.com`);
      await one.acquire();
    }
    expect(Number((await a.hget(keys.pacer(p), 'factor')) ?? 1)).toBe(1);
  });

  it('a systemic outage backs every pacer off (with its Retry-After as the gate), and success brings the pace back quickly', async () => {
    const p = prefix();
    const opts = {
      prefix: p,
      rate: { limit: 1000, windowMs: 1000 },
      failure: { windowMs: 10_000, share: 0.5, minUsers: 20 },
    };
    const one = createPacer({ redis: a, ...opts });
    const two = createPacer({ redis: b, ...opts });
    for (let i = 0; i < 100; i++) one.onSuccess(`before${i}@contoso.com`);
    await one.acquire();
    // Every call fails: a run of 20 distinct users failing with no healthy answer in between is
    // systemic at once, although the window still holds 100 users who succeeded just before.
    let verdict = await one.onFailure('down0@contoso.com', undefined);
    let i = 1;
    while (!verdict.systemic) verdict = await (i % 2 ? two : one).onFailure(`down${i++}@contoso.com`, 1500);
    expect(verdict.failing).toBe(20);
    expect(verdict.sample).toBeGreaterThanOrEqual(120);
    expect(verdict.factor).toBeCloseTo(0.5, 5);
    // The Retry-After of a systemic 5xx is the fleet's gate.
    expect(verdict.gateUntil).toBeGreaterThan(Date.now() + 1000);
    expect(await two.acquire()).toBeGreaterThan(1000);
    // One cut per second at most; over a long outage the factor reaches the floor and stays there.
    for (let k = 0; k < 6; k++) {
      await a.hset(keys.pacer(p), 'hcutAt', '0');
      verdict = await two.onFailure(`down${i++}@contoso.com`, undefined);
    }
    expect(verdict.factor).toBeCloseTo(0.1, 5);
    await a.del(keys.throttleGate(p));
    // Recovery: 11 healthy answers take the factor from the floor back to 1 (not 90 as before).
    for (let k = 0; k < 11; k++) one.onSuccess(`back${k}@contoso.com`);
    await one.acquire();
    expect(Number(await a.hget(keys.pacer(p), 'factor'))).toBe(1);
  });

  it('a 429 still cuts the pace and it comes back slowly; a 5xx for one user alone does not', async () => {
    const p = prefix();
    const one = createPacer({ redis: a, prefix: p, rate: { limit: 1000, windowMs: 1000 } });
    expect((await one.onFailure('solo@contoso.com', undefined)).factor).toBe(1);
    expect((await one.onThrottled(undefined)).factor).toBeCloseTo(0.7, 5);
    for (let k = 0; k < 11; k++) one.onSuccess(`ok${k}@contoso.com`);
    await one.acquire();
    // 0.02 per healthy answer: 15 answers undo one cut.
    expect(Number(await a.hget(keys.pacer(p), 'factor'))).toBeCloseTo(0.92, 5);
  });

  it('grants several waiters in one round trip when the pace has several slots due, never more than the pace allows', async () => {
    const p = prefix();
    const fast = createPacer({ redis: a, prefix: p, rate: { limit: 1_000_000, windowMs: 1000 } });
    const before = Number((await a.info('commandstats')).match(/cmdstat_evalsha:calls=(\d+)/)?.[1] ?? 0);
    await Promise.all(Array.from({ length: 40 }, () => fast.take()));
    const after = Number((await a.info('commandstats')).match(/cmdstat_evalsha:calls=(\d+)/)?.[1] ?? 0);
    // 40 waiters, at most 32 per grant: a handful of round trips instead of 40.
    expect(after - before).toBeLessThanOrEqual(6);
    // At a pace of 20/s nothing is batched: 4 waiters take about 3 intervals.
    const slow = createPacer({ redis: b, prefix: `${p}s`, rate: { limit: 20, windowMs: 1000 }, headroom: 1 });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 4 }, () => slow.take()));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });
});
