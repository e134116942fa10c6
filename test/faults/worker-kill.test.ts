// Fault 1: a worker is SIGKILLed in the middle of a 1,000-job batch. Stall detection must hand its
// jobs to the surviving workers: every user ends retired, and Graph sees a second call only for the
// jobs that were in flight in the killed process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicates, usersApplied } from './support/figures.js';
import { waitFor } from './support/poll.js';
import { makeUsers, report, type Stack, startStack } from './support/stack.js';

const JOBS = 1000;
const CONCURRENCY = 10;

describe('fault: worker SIGKILL during a 1,000-job batch', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      group: 'worker-kill',
      workers: 3,
      // 150 ms per call keeps several calls on the wire in every worker when the kill lands.
      sim: { latencyMs: 150 },
      env: {
        WORKER_CONCURRENCY: String(CONCURRENCY),
        GRAPH_RATE_LIMIT: '60/2s',
        // Short locks so the dead worker's jobs are taken over in seconds rather than a minute.
        WORKER_LOCK_DURATION: '10s',
        WORKER_STALLED_INTERVAL: '3s',
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('loses nothing and repeats at most the calls in flight at the kill', async () => {
    const users = makeUsers(JOBS, 'kill');
    const started = Date.now();
    const ids = await stack.submitBatch(users);
    expect(ids.size).toBe(JOBS);

    // Kill once the batch is well under way, while every worker is busy.
    await waitFor(
      'a quarter of the batch to be retired',
      async () => usersApplied(stack.sim.stats(), users) >= 250,
      {
        timeoutMs: 120_000,
      },
    );
    const victim = stack.workers[0]!;
    const activeAtKill = await stack.ctx.retire.getActiveCount();
    const appliedAtKill = usersApplied(stack.sim.stats(), users);
    const killedAt = Date.now();
    const exit = await victim.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');

    const truth = await stack.waitAllRetired(ids.values(), 240_000);
    const finishedAt = Date.now();
    const stats = stack.sim.stats();
    const dup = duplicates(stats, users);

    // The jobs the dead worker held come back through stall detection: `stc` counts them.
    const recoveredByStall = truth.stalledJobs;
    const figures = {
      jobs: JOBS,
      workers: 3,
      concurrencyPerWorker: CONCURRENCY,
      retiredAtKill: appliedAtKill,
      activeAtKillAllWorkers: activeAtKill,
      jobsRecoveredByStallDetection: recoveredByStall,
      duplicateGraphApplications: dup.duplicateSuccesses,
      extraGraphCalls: dup.extraCalls,
      deadLetters: truth.deadLetters,
      recoverySeconds: Math.round((finishedAt - killedAt) / 100) / 10,
      totalSeconds: Math.round((finishedAt - started) / 100) / 10,
    };
    report('worker-sigkill', figures);

    expect(truth.retired).toBe(JOBS);
    expect(truth.deadLetters).toBe(0);
    expect(truth.counts.active).toBe(0);
    expect(truth.counts.failed).toBe(0);
    // Every user's action reached Graph.
    expect(usersApplied(stats, users)).toBe(JOBS);
    // Only the killed worker's jobs may be repeated, and it held at most its concurrency.
    expect(recoveredByStall).toBeLessThanOrEqual(CONCURRENCY);
    expect(dup.duplicateSuccesses).toBeLessThanOrEqual(recoveredByStall);
    // The kill really hit work in progress (otherwise this test proves nothing).
    expect(recoveredByStall).toBeGreaterThan(0);
    // The survivors kept working and are still alive.
    expect(stack.workers.slice(1).every((w) => w.running())).toBe(true);
  });
});
