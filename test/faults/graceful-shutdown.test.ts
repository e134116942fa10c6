// Fault 7: SIGTERM to a worker in the middle of work (what Kubernetes does on a rollout). Calls on
// the wire finish and are recorded, jobs not yet calling go back to the queue without losing an
// attempt, the process exits 0, and nothing is left for stall detection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetrics } from '../../src/records/metrics.js';
import { duplicates, usersApplied } from './support/figures.js';
import { waitFor } from './support/poll.js';
import { makeUsers, report, type Stack, startStack } from './support/stack.js';

const JOBS = 300;

describe('fault: graceful shutdown (SIGTERM during work)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      group: 'graceful',
      workers: 2,
      // Slow answers keep calls on the wire when SIGTERM lands.
      sim: { latencyMs: 400 },
      env: { SHUTDOWN_TIMEOUT: '30s', WORKER_LOCK_DURATION: '10s', WORKER_STALLED_INTERVAL: '3s' },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('finishes in-flight calls, exits 0 and leaves nothing stalled', async () => {
    const users = makeUsers(JOBS, 'term');
    const ids = await stack.submitBatch(users);
    await waitFor('the batch to be under way', async () => usersApplied(stack.sim.stats(), users) >= 60, {
      timeoutMs: 60_000,
    });
    const victim = stack.workers[0]!;
    const activeAtTerm = await stack.ctx.retire.getActiveCount();
    const termAt = Date.now();
    const exit = await victim.stop(45_000);
    const exitedAt = Date.now();
    expect(victim.output()).not.toMatch(/shutdown timeout/);

    const truth = await stack.waitAllRetired(ids.values(), 180_000);
    const stats = stack.sim.stats();
    const dup = duplicates(stats, users);
    const maxAttemptsMade = Math.max(...truth.jobs.map((j) => j.attemptsMade));

    report('graceful-shutdown', {
      jobs: JOBS,
      activeAtSigtermAllWorkers: activeAtTerm,
      exitCode: exit.code,
      exitSignal: exit.signal,
      shutdownSeconds: Math.round((exitedAt - termAt) / 100) / 10,
      jobsRecoveredByStallDetection: truth.stalledJobs,
      duplicateGraphApplications: dup.duplicateSuccesses,
      maxAttemptsMadePerJob: maxAttemptsMade,
      deadLetters: truth.deadLetters,
    });

    expect(exit).toEqual({ code: 0, signal: null });
    expect(truth.retired).toBe(JOBS);
    expect(truth.deadLetters).toBe(0);
    // Nothing was left for stall detection and no action was applied twice.
    expect(truth.stalledJobs).toBe(0);
    expect(dup.usersAppliedTwice).toBe(0);
    // Jobs handed back on shutdown kept their attempts.
    expect(maxAttemptsMade).toBe(1);
    expect(stack.workers[1]?.running()).toBe(true);

    // Fleet counters are buffered in each worker (flushed about once a second and on shutdown): once
    // both workers have been stopped with SIGTERM they are exact, to the call.
    expect(await stack.workers[1]!.stop(45_000)).toEqual({ code: 0, signal: null });
    const metrics = await readMetrics(stack.db, stack.prefix);
    const countedCalls = Object.entries(metrics)
      .filter(([k]) => k.startsWith('graph_calls:'))
      .reduce((sum, [, v]) => sum + v, 0);
    report('graceful-shutdown-counters', {
      outcomeRetired: metrics['outcome:retired'],
      graphCallsCounted: countedCalls,
      graphCallsSimulator: stack.sim.stats({ log: false }).graph.calls,
    });
    expect(metrics['outcome:retired']).toBe(JOBS);
    expect(metrics['graph_calls:204']).toBe(stack.sim.stats({ log: false }).graph.byStatus['204']);
    expect(countedCalls).toBe(stack.sim.stats({ log: false }).graph.calls);
  });
});
