// Fault 6: Graph becomes slower than the client's timeout — first every call hangs, then every
// answer takes 2.5 s against a 1 s GRAPH_TIMEOUT. Calls time out and are retried, no job stays
// stuck in `active`, and once Graph is fast again every user ends retired without a dead letter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetrics } from '../../src/records/metrics.js';
import { usersApplied } from './support/figures.js';
import { queueCounts, readDeadLetters } from './support/outcomes.js';
import { sleep, waitFor } from './support/poll.js';
import { makeUsers, report, type Stack, startStack } from './support/stack.js';

const JOBS = 300;
const HANG_MS = 8000;
const SLOW_MS = 8000;

describe('fault: Graph slower than the timeout', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      group: 'slow-graph',
      workers: 2,
      sim: { latencyMs: 20 },
      env: { GRAPH_TIMEOUT: '1s', WORKER_LOCK_DURATION: '10s', WORKER_STALLED_INTERVAL: '3s' },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('times calls out, retries them and leaves no job stuck active', async () => {
    const users = makeUsers(JOBS, 'slow');
    const ids = await stack.submitBatch(users);
    await waitFor('the batch to be under way', async () => usersApplied(stack.sim.stats(), users) >= 30, {
      timeoutMs: 60_000,
    });

    const slowStart = Date.now();
    stack.sim.control({ hangAll: true });
    await sleep(HANG_MS);
    stack.sim.control({ hangAll: false, latencyMs: 2500 });
    await sleep(SLOW_MS);
    stack.sim.control({ latencyMs: 20 });
    const slowEnd = Date.now();
    // While Graph was slow, jobs kept moving: none sat in `active` for the whole slow phase.
    const activeAtEnd = await stack.ctx.retire.getActive();
    const stuck = activeAtEnd.filter(
      (j) => (j.processedOn ?? Date.now()) < slowStart && j.stalledCounter === 0,
    );

    const truth = await stack.waitAllRetired(ids.values(), 180_000);
    const doneAt = Date.now();
    const counts = await waitFor(
      'the active list to drain',
      async () => {
        const c = await queueCounts(stack.db, stack.prefix);
        return c.active === 0 ? c : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const metrics = await readMetrics(stack.db, stack.prefix);
    const stats = stack.sim.stats();
    const timeouts = metrics['graph_calls:timeout'] ?? 0;
    const retriedJobs = truth.jobs.filter((j) => (j.graphCalls ?? 0) > 1).length;
    const deadLetters = await readDeadLetters(stack.db, stack.prefix);

    report('slow-graph', {
      jobs: JOBS,
      graphTimeoutMs: 1000,
      slowPhaseSeconds: Math.round((slowEnd - slowStart) / 100) / 10,
      timedOutCalls: timeouts,
      // The simulator counts a call the client gave up on as never answered.
      callsAbandonedByClient: stats.graph.byStatus.hang ?? 0,
      jobsRetried: retriedJobs,
      jobsActiveSinceBeforeSlowPhase: stuck.length,
      jobsRecoveredByStallDetection: truth.stalledJobs,
      allRetiredAfterRecoverySeconds: Math.round((doneAt - slowEnd) / 100) / 10,
      deadLetters: truth.deadLetters,
      deadLetterReasons: deadLetters.map((d) => `${d.reason}:${d.lastStatus}`),
    });

    expect(timeouts).toBeGreaterThan(0);
    expect(retriedJobs).toBeGreaterThan(0);
    expect(stuck).toEqual([]);
    expect(truth.deadLetters).toBe(0);
    expect(truth.retired).toBe(JOBS);
    expect(counts.active).toBe(0);
    // Timeouts are handled by the worker itself, not by a lock expiring.
    expect(truth.stalledJobs).toBe(0);
  });
});
