// Fault 4: a throttle storm. The simulator's Intune-like limiter is set to a third of the pace the
// workers were configured for, first answering 429 with Retry-After, then without it. With a
// Retry-After no process may start a call inside the announced window; either way the pace adapts,
// nothing is dead-lettered and every user ends retired.
import { afterEach, describe, expect, it } from 'vitest';
import type { RetryAfterFormat } from '../../src/sim/types.js';
import { usersApplied } from './support/figures.js';
import { readDeadLetters } from './support/outcomes.js';
import { makeUsers, report, type Stack, startStack } from './support/stack.js';

const JOBS = 250;
// Workers believe 30 calls/s are fine; the tenant only takes 10 per second.
const WORKER_RATE = '60/2s';
const SIM_LIMIT = { limit: 10, windowMs: 1000 };
const LATENCY_MS = 20;
/**
 * Calls that left a worker before the 429 reached it (and before the gate was set in Redis) are
 * "already on the wire" and allowed; the simulator opens its window when it sends the 429. The grace
 * absorbs scheduling jitter between processes on a loaded 2-core runner; windows here last hundreds
 * of milliseconds, so a worker ignoring them is still caught.
 */
const GRACE_MS = 50;

describe('fault: throttle storm', () => {
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const cases: { name: string; retryAfter: RetryAfterFormat }[] = [
    { name: 'with Retry-After', retryAfter: 'fractional' },
    { name: 'without Retry-After', retryAfter: 'none' },
  ];

  for (const c of cases) {
    it(`${c.name}: honours every announced window and retires everyone`, async () => {
      stack = await startStack({
        group: `throttle-${c.retryAfter}`,
        workers: 2,
        sim: {
          latencyMs: LATENCY_MS,
          violationGraceMs: GRACE_MS,
          limit: { ...SIM_LIMIT, retryAfter: c.retryAfter },
        },
        env: { GRAPH_RATE_LIMIT: WORKER_RATE },
      });
      const users = makeUsers(JOBS, `storm-${c.retryAfter}`);
      const started = Date.now();
      const ids = await stack.submitBatch(users);
      const truth = await stack.waitAllRetired(ids.values(), 240_000);
      const elapsed = Date.now() - started;
      const stats = stack.sim.stats();
      const deadLetters = await readDeadLetters(stack.db, stack.prefix);
      const factor = await stack.db.hget(`${stack.prefix}:offboard:pacer`, 'factor');

      const figures = {
        case: c.name,
        jobs: JOBS,
        simLimitPerSecond: (SIM_LIMIT.limit * 1000) / SIM_LIMIT.windowMs,
        workerPacePerSecond: 30,
        graphCalls: stats.graph.calls,
        throttled429: stats.graph.throttled,
        throttledPercent: Math.round((stats.graph.throttled / stats.graph.calls) * 1000) / 10,
        callsInsideAnnouncedWindow: stats.graph.insideRetryAfterWindow,
        callsAlreadyOnWireAtAnnouncement: stats.graph.inFlightAtAnnouncement,
        graceMs: GRACE_MS,
        finalPaceFactor: factor === null ? null : Number(factor),
        seconds: Math.round(elapsed / 100) / 10,
        deadLetters: truth.deadLetters,
        deadLetterReasons: deadLetters.map((d) => `${d.reason}:${d.lastStatus}`),
      };
      report(`throttle-storm-${c.retryAfter}`, figures);

      // The storm really happened…
      expect(stats.graph.throttled).toBeGreaterThan(0);
      // …no call started inside a window Graph announced…
      expect(stats.graph.insideRetryAfterWindow).toBe(0);
      // …and nothing was lost or dead-lettered for it.
      expect(truth.deadLetters).toBe(0);
      expect(truth.retired).toBe(JOBS);
      expect(usersApplied(stats, users)).toBe(JOBS);
    });
  }
});
