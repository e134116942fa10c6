// Fault 3: Graph answers 503 to every call for 30 s, then recovers. Transient failures are retried
// with backoff inside the failure budget: nothing is dead-lettered, every user ends retired, the
// calls made during the outage stay within the shared pace, and the per-job gaps grow (backoff).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsBetween, meanRetryGaps, usersApplied } from './support/figures.js';
import { readDeadLetters } from './support/outcomes.js';
import { sleep, waitFor } from './support/poll.js';
import { makeUsers, report, type Stack, startStack } from './support/stack.js';

const JOBS = 900;
const OUTAGE_MS = 30_000;
const RATE = { limit: 60, windowMs: 2000 };

describe('fault: Graph outage (503 for 30 s)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      group: 'graph-outage',
      workers: 2,
      sim: { latencyMs: 20 },
      env: { GRAPH_RATE_LIMIT: `${RATE.limit}/${RATE.windowMs / 1000}s` },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('rides out the outage with backoff and dead-letters nothing', async () => {
    const users = makeUsers(JOBS, 'outage');
    const ids = await stack.submitBatch(users);
    expect(ids.size).toBe(JOBS);

    await waitFor('the batch to be under way', async () => usersApplied(stack.sim.stats(), users) >= 100, {
      timeoutMs: 120_000,
    });
    const appliedBefore = usersApplied(stack.sim.stats(), users);
    const outageStart = Date.now();
    stack.sim.control({ outage: { status: 503 } });
    // The fault itself lasts a fixed 30 s; nothing is asserted on this timer.
    await sleep(OUTAGE_MS);
    stack.sim.control({ outage: null });
    const outageEnd = Date.now();

    const truth = await stack.waitAllRetired(ids.values(), 360_000);
    const doneAt = Date.now();
    const stats = stack.sim.stats();
    const during = callsBetween(stats, outageStart, outageEnd);
    const outageAnswers = during.filter((e) => e.status === 503).length;
    const firstSuccessAfter = stats.graph.log
      .filter((e) => e.at >= outageEnd && e.status >= 200 && e.status < 300)
      .reduce((min, e) => Math.min(min, e.at), Number.POSITIVE_INFINITY);
    const usersHitSet = new Set(during.map((e) => e.user));
    // Every call of the users the outage hit, up to and including their success after it.
    const gaps = meanRetryGaps(
      stats.graph.log.filter((e) => usersHitSet.has(e.user)),
      4,
    );
    const thirds = [0, 1, 2].map(
      (i) =>
        callsBetween(stats, outageStart + (i * OUTAGE_MS) / 3, outageStart + ((i + 1) * OUTAGE_MS) / 3)
          .length,
    );
    const usersHit = usersHitSet.size;
    const jobsThatSpentAnAttempt = truth.jobs.filter((j) => j.attemptsMade > 1).length;
    // What the shared pace allows over the outage.
    const paceAllowance = Math.ceil((RATE.limit / RATE.windowMs) * (outageEnd - outageStart));
    const deadLetters = await readDeadLetters(stack.db, stack.prefix);

    const figures = {
      jobs: JOBS,
      retiredBeforeOutage: appliedBefore,
      outageSeconds: Math.round((outageEnd - outageStart) / 100) / 10,
      callsDuringOutage: during.length,
      callsPerSecondDuringOutage: Math.round((during.length / (outageEnd - outageStart)) * 10_000) / 10,
      callsByThirdOfOutage: thirds,
      paceAllowance,
      usersHitByOutage: usersHit,
      jobsThatSpentADurableAttempt: jobsThatSpentAnAttempt,
      meanRetryGapsMs: gaps,
      firstSuccessAfterRecoverySeconds: Math.round((firstSuccessAfter - outageEnd) / 100) / 10,
      allRetiredAfterRecoverySeconds: Math.round((doneAt - outageEnd) / 100) / 10,
      deadLetters: truth.deadLetters,
      deadLetterReasons: deadLetters.map((d) => `${d.reason}:${d.lastStatus}`),
    };
    report('graph-outage', figures);

    expect(outageAnswers).toBeGreaterThan(0);
    expect(truth.deadLetters).toBe(0);
    expect(truth.retired).toBe(JOBS);
    expect(usersApplied(stats, users)).toBe(JOBS);
    // No request storm: a job's successive retries are spaced further and further apart…
    expect(gaps[1]).toBeGreaterThan(gaps[0] as number);
    expect(gaps[2]).toBeGreaterThan(gaps[1] as number);
    // …and the fleet as a whole backs off: with every call failing for 30 s it makes at most half
    // the calls its normal pace allows. (A fleet that only backs off per job keeps taking fresh jobs
    // at full pace, and each of them burns a durable attempt: a longer outage then dead-letters the
    // queue for a transient cause.)
    expect(during.length).toBeLessThanOrEqual(paceAllowance / 2);
    expect(Number.isFinite(firstSuccessAfter)).toBe(true);
  });
});
