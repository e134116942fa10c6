// Fault 5: the token endpoint is down, or the client secret has expired. Neither is the leavers'
// fault: the circuit opens, the retire queue pauses for every worker, /readyz says why, nothing is
// dead-lettered and no job loses an attempt. After the fix and an operator's resume, all retire.
import { afterEach, describe, expect, it } from 'vitest';
import { getCircuit } from '../../src/control/queue-control.js';
import { usersApplied } from './support/figures.js';
import { StopWaiting, waitFor } from './support/poll.js';
import { makeUsers, report, type Stack, startStack } from './support/stack.js';

const JOBS = 200;

async function waitForOpenCircuit(stack: Stack) {
  return waitFor(
    'the circuit to open',
    async () => {
      const c = await getCircuit(stack.ctx);
      return c.open ? c : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

/** What the fleet reports while the circuit is open. */
async function openCircuitView(stack: Stack, code: string) {
  const readyz = await stack.call('GET', '/readyz');
  const queues = await stack.call('GET', '/v1/queues', { role: 'viewer' });
  // Readiness is not tied to the circuit (issue 19 item 7): the API stays in service and says why.
  expect(readyz.status).toBe(200);
  expect(JSON.stringify(readyz.body)).toContain(code);
  expect(JSON.stringify(queues.body)).toContain(code);
  expect(queues.status).toBe(200);
  expect(queues.body?.paused ?? queues.body?.retire?.paused).toBe(true);
  expect(await stack.ctx.retire.isPaused()).toBe(true);
  return { readyz: readyz.body, queues: queues.body };
}

async function resume(stack: Stack): Promise<number> {
  const res = await stack.call('POST', '/v1/queues/retire/resume', { role: 'operator', body: {} });
  expect(res.status).toBeLessThan(300);
  return Date.now();
}

/**
 * Waits for every job to retire, failing at once (with the circuit's reason) if the circuit opens
 * again after the operator's resume: after the fix nothing may pause the queue again.
 */
async function retiredAfterResume(stack: Stack, ids: Iterable<string>, resumedAt: number) {
  const list = [...ids];
  return waitFor(
    `${list.length} jobs to end retired after the resume`,
    async () => {
      const c = await getCircuit(stack.ctx);
      if (c.open) {
        throw new ReopenedError(
          `the circuit opened again ${Date.parse(c.openedAt ?? '') - resumedAt} ms after the resume: ${c.code} — ${c.reason}`,
        );
      }
      const t = await stack.truth(list);
      return t.retired === list.length ? t : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
}

class ReopenedError extends StopWaiting {
  override readonly name = 'ReopenedError';
}

describe('fault: token endpoint outage and expired secret', () => {
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('token endpoint outage: circuit opens, nothing dead-lettered, all retired after resume', async () => {
    stack = await startStack({ group: 'token-outage', workers: 2, sim: { latencyMs: 20 } });
    // The workers have no token yet: the first job needs the (broken) token endpoint.
    stack.sim.control({ token: { outage: 503 } });
    const users = makeUsers(JOBS, 'tokdown');
    const ids = await stack.submitBatch(users);
    const outageAt = Date.now();

    const circuit = await waitForOpenCircuit(stack);
    const openedAt = Date.now();
    const view = await openCircuitView(stack, circuit.code as string);
    const whileOpen = await stack.truth(ids.values());
    const graphCallsWhileOpen = stack.sim.stats().graph.calls;
    // Figures of the open-circuit phase first, so they are on record even if the recovery fails.
    report('token-endpoint-outage-open', {
      jobs: JOBS,
      circuitCode: circuit.code,
      circuitOpenedAfterSeconds: Math.round((openedAt - outageAt) / 100) / 10,
      tokenRequestsDuringOutage: stack.sim.stats().token.requests,
      graphCalls: graphCallsWhileOpen,
      deadLetters: whileOpen.deadLetters,
      readyz: view.readyz,
    });
    expect(circuit.code).toBe('token_endpoint_unavailable');
    expect(whileOpen.deadLetters).toBe(0);
    expect(graphCallsWhileOpen).toBe(0);

    // Fix: the endpoint is back; an operator resumes.
    stack.sim.control({ token: { outage: null } });
    const fixedAt = Date.now();
    const tokenRequestsAtFix = stack.sim.stats().token.requests;
    const resumedAt = await resume(stack);
    const truth = await retiredAfterResume(stack, ids.values(), resumedAt);
    const doneAt = Date.now();
    const maxAttemptsMade = Math.max(...truth.jobs.map((j) => j.attemptsMade));

    report('token-endpoint-outage-recovered', {
      jobs: JOBS,
      tokenRequestsAfterFix: stack.sim.stats().token.requests - tokenRequestsAtFix,
      deadLetters: truth.deadLetters,
      maxAttemptsMadePerJob: maxAttemptsMade,
      allRetiredAfterResumeSeconds: Math.round((doneAt - fixedAt) / 100) / 10,
    });
    expect(truth.deadLetters).toBe(0);
    expect(truth.retired).toBe(JOBS);
    expect(usersApplied(stack.sim.stats(), users)).toBe(JOBS);
    // Putting jobs back while the circuit was open cost no attempt (1 = the successful one).
    expect(maxAttemptsMade).toBe(1);
    expect((await getCircuit(stack.ctx)).open).toBe(false);
  });

  it('expired secret mid-batch: circuit opens, nothing dead-lettered, all retired after the fix', async () => {
    stack = await startStack({ group: 'token-expired', workers: 2, sim: { latencyMs: 20 } });
    const s = stack;
    const users = makeUsers(JOBS, 'expired');
    const ids = await s.submitBatch(users);
    await waitFor('the batch to be under way', async () => usersApplied(s.sim.stats(), users) >= 40, {
      timeoutMs: 60_000,
    });
    // The secret expires and the tokens issued with it stop working.
    s.sim.control({ token: { secretExpired: true, revokeAll: true } });
    const expiredAt = Date.now();

    const circuit = await waitForOpenCircuit(s);
    const openedAt = Date.now();
    expect(circuit.code).toEqual(expect.any(String));
    const view = await openCircuitView(s, circuit.code as string);
    const appliedWhileOpen = usersApplied(s.sim.stats(), users);
    const callsAtOpen = s.sim.stats().graph.calls;
    const whileOpen = await s.truth(ids.values());
    expect(whileOpen.deadLetters).toBe(0);
    expect(whileOpen.retired).toBeLessThan(JOBS);

    // Fix: an operator issues a new secret and rolls the workers, then resumes the queue.
    const newSecret = `rotated-${Date.now().toString(36)}`;
    s.sim.control({ token: { clientSecret: newSecret, secretExpired: false } });
    const old = s.workers.splice(0, s.workers.length);
    const exits = await Promise.all(old.map((w) => w.stop(30_000)));
    for (const e of exits) expect(e.code).toBe(0);
    const callsWhilePaused = s.sim.stats().graph.calls - callsAtOpen;
    await s.startWorker('worker-3', { AZURE_CLIENT_SECRET: newSecret });
    await s.startWorker('worker-4', { AZURE_CLIENT_SECRET: newSecret });
    await s.waitForWorkers(2);
    const fixedAt = Date.now();
    const resumedAt = await resume(s);
    const truth = await retiredAfterResume(s, ids.values(), resumedAt);
    const doneAt = Date.now();
    const maxAttemptsMade = Math.max(...truth.jobs.map((j) => j.attemptsMade));

    report('expired-secret', {
      jobs: JOBS,
      circuitCode: circuit.code,
      circuitReason: circuit.reason?.slice(0, 160),
      circuitOpenedAfterSeconds: Math.round((openedAt - expiredAt) / 100) / 10,
      retiredWhenCircuitOpened: appliedWhileOpen,
      graphCallsAfterOpenUntilWorkersRolled: callsWhilePaused,
      readyz: view.readyz,
      deadLetters: truth.deadLetters,
      maxAttemptsMadePerJob: maxAttemptsMade,
      allRetiredAfterResumeSeconds: Math.round((doneAt - fixedAt) / 100) / 10,
    });
    expect(truth.deadLetters).toBe(0);
    expect(truth.retired).toBe(JOBS);
    expect(usersApplied(s.sim.stats(), users)).toBe(JOBS);
    expect(maxAttemptsMade).toBe(1);
    // Once open, no new call started: at most the calls of jobs already past the pacer.
    expect(callsWhilePaused).toBeLessThanOrEqual(2 * 10);
  });
});
