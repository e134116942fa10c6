// The one backoff function: full jitter under an exponential ceiling, capped, with Retry-After as a floor.
import { describe, expect, it } from 'vitest';
import { TokenAcquisitionError } from '../../src/entra/errors.js';
import {
  GraphBadRequestError,
  GraphForbiddenError,
  GraphNetworkError,
  GraphNotFoundError,
  GraphThrottledError,
  GraphTimeoutError,
  GraphTransientError,
  GraphUnauthorizedError,
} from '../../src/graph/errors.js';
import {
  createBackoffStrategy,
  fullJitter,
  isTransient,
  retryAfterOf,
  retryDelay,
  retryInCall,
} from '../../src/worker/retry-policy.js';

const s = { backoffBaseMs: 1000, backoffCapMs: 10_000, inCallRetries: 2 };
const d = (status: number | null) => ({ status, clientRequestId: 'c', durationMs: 1 });

describe('retry policy', () => {
  it('full jitter spans [0, min(cap, base·2^n))', () => {
    expect(fullJitter(0, s, () => 0)).toBe(0);
    expect(fullJitter(0, s, () => 0.999)).toBe(999);
    expect(fullJitter(2, s, () => 0.5)).toBe(2000);
    // 1000·2^5 = 32 s is above the cap.
    expect(fullJitter(5, s, () => 0.999)).toBe(9990);
    const samples = Array.from({ length: 500 }, () => fullJitter(3, s));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(8000);
    // Spread, not synchronised: plenty of distinct values.
    expect(new Set(samples).size).toBeGreaterThan(100);
  });

  it('never retries sooner than Retry-After says, even above the cap', () => {
    expect(retryDelay(0, s, 1500, () => 0)).toBe(1500);
    expect(retryDelay(0, s, 30_000, () => 0.9)).toBe(30_000);
    expect(retryDelay(3, s, 100, () => 0.5)).toBe(4000);
  });

  it('classifies what a retry may fix', () => {
    expect(isTransient(new GraphTransientError(d(503), undefined))).toBe(true);
    expect(isTransient(new GraphTimeoutError(d(null), 500))).toBe(true);
    expect(isTransient(new GraphNetworkError(d(null), new Error('reset')))).toBe(true);
    expect(isTransient(new GraphThrottledError(d(429), undefined))).toBe(true);
    // A 429 with Retry-After is a throttled wait, not a failure.
    expect(isTransient(new GraphThrottledError(d(429), 2000))).toBe(false);
    expect(isTransient(new GraphBadRequestError(d(400)))).toBe(false);
    expect(isTransient(new GraphNotFoundError(d(404)))).toBe(false);
    expect(isTransient(new GraphForbiddenError(d(403)))).toBe(false);
    expect(isTransient(new GraphUnauthorizedError(d(401)))).toBe(false);
    expect(isTransient(new TokenAcquisitionError('x', 'network_error', true))).toBe(true);
    expect(isTransient(new TokenAcquisitionError('x', 'invalid_client', false))).toBe(false);
    expect(isTransient(new Error('bug'))).toBe(false);
    expect(retryAfterOf(new GraphTransientError(d(503), 700))).toBe(700);
  });

  it('the BullMQ strategy continues the in-call curve and honours Retry-After', () => {
    const strategy = createBackoffStrategy({ ...s, backoffCapMs: 1_000_000 });
    const real = Math.random;
    Math.random = () => 0.999;
    try {
      // After 2 in-call retries, durable attempt 1 waits up to base·2^2, attempt 2 up to base·2^3.
      expect(strategy(1, 'offboard')).toBe(3996);
      expect(strategy(2, 'offboard')).toBe(7992);
      Math.random = () => 0;
      expect(strategy(1, 'offboard', new GraphTransientError(d(503), 12_000))).toBe(12_000);
    } finally {
      Math.random = real;
    }
  });

  it('retryInCall: retries only transient errors, at most inCallRetries times, with the policy delay, abortable', async () => {
    const seen: number[] = [];
    let calls = 0;
    // A 404 is not retried: one call.
    await expect(
      retryInCall(
        async () => {
          calls++;
          throw new GraphNotFoundError(d(404));
        },
        { ...s, backoffBaseMs: 10 },
      ),
    ).rejects.toBeInstanceOf(GraphNotFoundError);
    expect(calls).toBe(1);
    // A 503 twice then a 2xx: three calls, two waits under the full-jitter ceiling.
    calls = 0;
    const out = await retryInCall(
      async () => {
        if (++calls < 3) throw new GraphTransientError(d(503), undefined);
        return 'ok';
      },
      { ...s, inCallRetries: 2, backoffBaseMs: 10 },
      { onRetry: (i) => void seen.push(i.delayMs) },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeLessThan(10);
    expect(seen[1]).toBeLessThan(20);
    // The retries run out: the last error is rethrown.
    calls = 0;
    await expect(
      retryInCall(
        async () => {
          calls++;
          throw new GraphTransientError(d(503), undefined);
        },
        { ...s, inCallRetries: 1, backoffBaseMs: 1 },
      ),
    ).rejects.toBeInstanceOf(GraphTransientError);
    expect(calls).toBe(2);
    // Retry-After is the floor of the wait, and a shutdown cuts the wait short.
    const ac = new AbortController();
    const delays: number[] = [];
    const pending = retryInCall(
      async () => {
        throw new GraphTransientError(d(503), 60_000);
      },
      { ...s, backoffBaseMs: 1 },
      { signal: ac.signal, onRetry: (i) => void delays.push(i.delayMs) },
    );
    await new Promise((r) => setTimeout(r, 20));
    ac.abort(new Error('shutdown'));
    await expect(pending).rejects.toThrow('shutdown');
    expect(delays).toEqual([60_000]);
  });
});
