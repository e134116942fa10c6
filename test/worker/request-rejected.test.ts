// Issue 18 item 5: a systemic 400 must not empty the queue. When Graph refuses the same request shape
// with 400 for a share of the distinct users called (minimum sample and share, as the 403 circuit),
// the product's request is wrong: the circuit opens with `request_rejected` naming status, Graph code
// and message, nobody is dead-lettered, and a resume after the fix retires them all. One user's 400
// among healthy answers is still that user's dead letter `bad_request`.
import { describe, expect, it } from 'vitest';
import { getCircuit, resumeQueue } from '../../src/control/queue-control.js';
import { readMetrics } from '../../src/records/metrics.js';
import { enqueueUsers, waitFor, waitForOutcomes } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const suite = useWorkerSuite({ resetSim: (sim) => sim.control({ refuseSelect: null }) });

const users = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}@contoso.com`);

describe('a systemic 400 opens the circuit (request_rejected)', () => {
  it('50 leavers whose inventory read is refused with 400 → circuit request_rejected, no dead letter, no POST; fixed + resumed → all 50 retired', async () => {
    const config = suite.config({
      EVIDENCE: 'on',
      GRAPH_READ_RATE_LIMIT: '1000/1s',
      RETRY_BASE: '20ms',
      RETRY_CAP: '100ms',
    });
    const ctx = suite.open(config);
    const c = ctx;
    const leavers = users(50, 'rej');
    suite.sim.control({ devices: Object.fromEntries(leavers.map((u) => [u, 1])) });
    // A Graph that does not know a field of the inventory's $select (as with `ownerType` in v1.0).
    suite.sim.control({ refuseSelect: ['deviceName'] });
    await suite.startWorker(config);
    const ids = await enqueueUsers(c, leavers);
    const circuit = await waitFor(
      async () => {
        const s = await getCircuit(c);
        return s.open ? s : undefined;
      },
      { what: 'the circuit to open' },
    );
    expect(circuit.code).toBe('request_rejected');
    expect(circuit.reason).toContain('HTTP 400 BadRequest');
    expect(circuit.reason).toContain('device inventory read');
    expect(circuit.reason).toContain("Could not find a property named 'deviceName'");
    expect(await c.retire.isPaused()).toBe(true);
    await waitFor(async () => (await c.retire.getJobCounts('active')).active === 0, {
      what: 'no active jobs',
    });
    expect(await c.deadLetter.getJobCountByTypes('waiting', 'completed', 'delayed', 'failed')).toBe(0);
    expect(suite.sim.stats().graph.calls).toBe(0);
    for (const id of ids) {
      const job = await c.retire.getJob(id);
      expect(['waiting', 'delayed', 'paused', 'prioritized']).toContain(await job?.getState());
      expect(job?.attemptsMade ?? 0).toBeLessThan(config.worker.attempts);
    }
    expect((await readMetrics(c.redis, c.prefix))['circuit_opened:request_rejected']).toBe(1);

    // The request is fixed (here: the simulator accepts the field again) and an operator resumes.
    suite.sim.control({ refuseSelect: null });
    await resumeQueue(c, 'ops');
    const outcomes = await waitForOutcomes(c, ids, 90_000);
    expect(outcomes.map((o) => o.record?.outcome)).toEqual(ids.map(() => 'retired'));
    expect(outcomes.every((o) => o.deadLetter === undefined)).toBe(true);
    expect((await getCircuit(c)).open).toBe(false);
  });

  it("one user's 400 among healthy answers is that user's dead letter `bad_request`, alone", async () => {
    const config = suite.config({
      EVIDENCE: 'on',
      GRAPH_READ_RATE_LIMIT: '1000/1s',
      WORKER_CONCURRENCY: '2',
    });
    const ctx = suite.open(config);
    const healthy = users(20, 'ok');
    const odd = 'odd@contoso.com';
    suite.sim.control({ devices: Object.fromEntries([...healthy, odd].map((u) => [u, 1])) });
    suite.sim.control({ readScript: { [odd]: [400] } });
    await suite.startWorker(config);
    // The odd one last: by then the judge has a sample of users read.
    const ids = await enqueueUsers(ctx, [...healthy, odd]);
    const outcomes = await waitForOutcomes(ctx, ids, 60_000);
    const last = outcomes.at(-1);
    expect(last?.deadLetter).toMatchObject({ reason: 'bad_request', lastStatus: 400 });
    // Dead-lettered at once (its first attempt), not after a round of retries.
    expect(last?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
    expect(outcomes.slice(0, -1).map((o) => o.record?.outcome)).toEqual(healthy.map(() => 'retired'));
    expect((await getCircuit(ctx)).open).toBe(false);
    expect(suite.sim.stats().reads?.byUser[odd]).toBe(1);
  });
});
