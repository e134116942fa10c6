// A missing READ permission (DeviceManagementManagedDevices.Read.All) is systemic, not thousands of
// dead letters: 403s on the inventory read across several users open the circuit with
// `read_permission_missing`, the queue pauses and nothing is dead-lettered or POSTed. One user's read
// 403 before that verdict is retried later, not dead-lettered at once.
import { describe, expect, it } from 'vitest';
import { getCircuit, resumeQueue } from '../../src/control/queue-control.js';
import { PERMISSIONS } from '../../src/sim/tokens.js';
import { enqueueUsers, waitFor, waitForOutcomes } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const suite = useWorkerSuite({
  resetSim: (sim) => sim.control({ permissions: { grant: [PERMISSIONS.readDevices] } }),
});

const users = (n: number) => Array.from({ length: n }, (_, i) => `reader${i}@contoso.com`);

describe('read permission missing', () => {
  it('403 on the inventory reads across users → circuit read_permission_missing, paused, no dead letters, no POST; fixed + resumed → done', async () => {
    const config = suite.config({
      EVIDENCE: 'on',
      GRAPH_READ_RATE_LIMIT: '1000/1s',
      CIRCUIT_FORBIDDEN_THRESHOLD: '3',
      WORKER_CONCURRENCY: '4',
    });
    const ctx = suite.open(config);
    const c = ctx;
    suite.sim.control({ permissions: { deny: [PERMISSIONS.readDevices] } });
    suite.sim.control({ devices: Object.fromEntries(users(8).map((u) => [u, 1])) });
    await suite.startWorker(config);
    const ids = await enqueueUsers(c, users(8));
    const circuit = await waitFor(
      async () => {
        const s = await getCircuit(c);
        return s.open ? s : undefined;
      },
      { what: 'the circuit to open' },
    );
    expect(circuit.code).toBe('read_permission_missing');
    expect(circuit.reason).toContain('DeviceManagementManagedDevices.Read.All');
    expect(await c.retire.isPaused()).toBe(true);
    await waitFor(async () => (await c.retire.getJobCounts('active')).active === 0, {
      what: 'no active jobs',
    });
    expect(await c.deadLetter.getJobCountByTypes('waiting', 'completed', 'delayed')).toBe(0);
    expect(suite.sim.stats().graph.calls).toBe(0);
    expect(suite.sim.stats().reads?.byStatus['403']).toBeGreaterThanOrEqual(3);
    // No job ended, none used up its attempts.
    for (const id of ids) {
      const job = await c.retire.getJob(id);
      expect(['waiting', 'delayed', 'paused', 'prioritized']).toContain(await job?.getState());
      expect(job?.attemptsMade ?? 0).toBeLessThan(config.worker.attempts);
    }

    // The operator grants the permission and resumes: every leaver is inventoried and retired.
    suite.sim.control({ permissions: { grant: [PERMISSIONS.readDevices] } });
    await resumeQueue(c, 'ops');
    const outcomes = await waitForOutcomes(c, ids, 60_000);
    expect(outcomes.map((o) => o.record?.outcome)).toEqual(ids.map(() => 'retired'));
    expect(outcomes.every((o) => o.deadLetter === undefined)).toBe(true);
  });

  it("one user's read 403 before any systemic verdict is retried later, not dead-lettered", async () => {
    const config = suite.config({
      EVIDENCE: 'on',
      GRAPH_READ_RATE_LIMIT: '1000/1s',
      RETRY_BASE: '20ms',
      RETRY_CAP: '50ms',
    });
    const ctx = suite.open(config);
    suite.sim.control({ devices: { 'scoped@contoso.com': 2 }, readScript: { 'scoped@contoso.com': [403] } });
    await suite.startWorker(config);
    const [id] = await enqueueUsers(ctx, ['scoped@contoso.com']);
    const [out] = await waitForOutcomes(ctx, [id as string]);
    expect(out?.record).toMatchObject({ outcome: 'retired', devices: 2 });
    expect(out?.deadLetter).toBeUndefined();
    expect(out?.attemptsMade).toBeGreaterThanOrEqual(1);
    expect((await getCircuit(ctx)).open).toBe(false);
    expect(suite.sim.stats().reads?.byUser['scoped@contoso.com']).toBe(2);
  });

  it('a user whose read 403 persists ends as a dead letter `forbidden` only after its last attempt', async () => {
    const config = suite.config({
      EVIDENCE: 'on',
      GRAPH_READ_RATE_LIMIT: '1000/1s',
      JOB_ATTEMPTS: '3',
      RETRY_BASE: '20ms',
      RETRY_CAP: '50ms',
    });
    const ctx = suite.open(config);
    suite.sim.control({ readScript: { 'outofscope@contoso.com': [403, 403, 403, 403] } });
    await suite.startWorker(config);
    const [id] = await enqueueUsers(ctx, ['outofscope@contoso.com']);
    const [out] = await waitForOutcomes(ctx, [id as string]);
    expect(out?.deadLetter).toMatchObject({ reason: 'forbidden', lastStatus: 403 });
    expect(out?.attemptsMade).toBe(3);
    expect(suite.sim.stats().reads?.byUser['outofscope@contoso.com']).toBe(3);
    expect(suite.sim.stats().graph.calls).toBe(0);
  });
});
