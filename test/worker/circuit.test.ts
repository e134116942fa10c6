// Systemic failures open the circuit: the queue pauses for every worker, nothing is dead-lettered,
// jobs keep their attempts, and an operator's resume (after fixing the cause) retires them all.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { getCircuit, resumeQueue } from '../../src/control/queue-control.js';
import type { QueueContext } from '../../src/queue/context.js';
import { readAudit, userHistory } from '../../src/records/audit.js';
import { readMetrics } from '../../src/records/metrics.js';
import { enqueueUsers, outcomeOf, waitFor, waitForOutcomes } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

let originalSecret: string;
const suite = useWorkerSuite({
  sim: { latencyMs: 5 },
  resetSim: (sim) => sim.control({ token: { clientSecret: originalSecret, outage: null } }),
});
beforeAll(() => {
  originalSecret = suite.sim.clientSecret;
});

function setup(env: Record<string, string> = {}): Promise<{ config: Config; ctx: QueueContext }> {
  // Credentials are read now: a later rotation in the simulator makes this worker's secret stale.
  return suite.start(env);
}

const users = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}@contoso.com`);

describe('circuit', () => {
  it('invalid client secret → circuit open, queue paused, zero dead letters, attempts kept; fixed + resumed → all retired', async () => {
    const config = suite.config({});
    suite.sim.control({ token: { clientSecret: 'rotated' } });
    const ctx = suite.open(config);
    await suite.startWorker(config);
    const ids = await enqueueUsers(ctx, users('leaver', 6));
    const c = ctx;
    const circuit = await waitFor(
      async () => {
        const s = await getCircuit(c);
        return s.open ? s : undefined;
      },
      { what: 'the circuit to open' },
    );
    expect(circuit.code).toBe('invalid_client');
    expect(await c.retire.isPaused()).toBe(true);
    // Jobs that were active are handed back; wait until none is active any more.
    await waitFor(async () => (await c.retire.getJobCounts('active')).active === 0, {
      what: 'no active jobs',
    });
    expect(await c.deadLetter.getJobCountByTypes('waiting')).toBe(0);
    for (const id of ids) {
      const o = await outcomeOf(c, id);
      expect(['waiting', 'paused']).toContain(o.state);
      expect(o.attemptsMade).toBe(0);
    }
    expect(suite.sim.stats().graph.calls).toBe(0);
    const metrics = await readMetrics(c.redis, c.prefix);
    expect(metrics['circuit_opened:invalid_client']).toBe(1);
    expect((await readAudit(c)).filter((e) => e.type === 'circuit-open')).toHaveLength(1);

    suite.sim.control({ token: { clientSecret: originalSecret } });
    await resumeQueue(c, 'test-operator');
    const out = await waitForOutcomes(c, ids);
    for (const o of out) expect(o.record?.outcome).toBe('retired');
    expect((await getCircuit(c)).open).toBe(false);
  });

  it('403 for many different users → the circuit opens instead of dead-lettering them all', async () => {
    const { ctx: c } = await setup({ CIRCUIT_FORBIDDEN_THRESHOLD: '3', WORKER_CONCURRENCY: '4' });
    const ids = await enqueueUsers(c, users('forbidden-user', 10));
    await waitFor(async () => (await getCircuit(c)).open, { what: 'the circuit to open' });
    await waitFor(async () => (await c.retire.getJobCounts('active')).active === 0, {
      what: 'no active jobs',
    });
    expect((await getCircuit(c)).code).toBe('forbidden_many');
    expect(await c.retire.isPaused()).toBe(true);
    // The counter is atomic: exactly threshold - 1 users were dead-lettered before it tripped.
    expect(await c.deadLetter.getJobCountByTypes('waiting')).toBe(2);
    const states = await Promise.all(ids.map((id) => outcomeOf(c, id)));
    expect(states.filter((o) => o.state === 'failed')).toHaveLength(2);
    for (const o of states.filter((s) => s.state !== 'failed')) expect(o.attemptsMade).toBe(0);
  });

  it('one 401 → one forced token refresh → retired, circuit stays closed', async () => {
    const { ctx: c } = await setup();
    const [first] = await enqueueUsers(c, ['olga@contoso.com']);
    await waitForOutcomes(c, [first as string]);
    suite.sim.control({ token: { revokeAll: true } });
    const [id] = await enqueueUsers(c, ['pete@contoso.com']);
    const [o] = await waitForOutcomes(c, [id as string]);
    expect(o?.record).toMatchObject({ outcome: 'retired', attempts: 2 });
    const statuses = (await userHistory(c, 'pete@contoso.com'))
      .filter((e) => e.type === 'attempt')
      .map((e) => e.details?.status);
    expect(statuses).toEqual([401, 204]);
    expect((await getCircuit(c)).open).toBe(false);
  });

  it('401 that persists after a forced refresh → circuit `unauthorized`, job back in the queue, no dead letter', async () => {
    const { ctx: c } = await setup();
    suite.sim.control({ script: { 'quinn@contoso.com': [401, 401] } });
    const [id] = await enqueueUsers(c, ['quinn@contoso.com']);
    await waitFor(async () => (await getCircuit(c)).open, { what: 'the circuit to open' });
    await waitFor(async () => (await c.retire.getJobCounts('active')).active === 0, {
      what: 'no active jobs',
    });
    expect((await getCircuit(c)).code).toBe('unauthorized');
    const o = await outcomeOf(c, id as string);
    expect(['waiting', 'paused']).toContain(o.state);
    expect(o.attemptsMade).toBe(0);
    expect(o.deadLetter).toBeUndefined();
    expect(suite.sim.stats().graph.byUser['quinn@contoso.com']).toBe(2);
    await resumeQueue(c, 'test-operator');
    const [done] = await waitForOutcomes(c, [id as string]);
    expect(done?.record).toMatchObject({ outcome: 'retired', attempts: 3 });
  });

  it('token endpoint down → a few in-call retries, then circuit `token_endpoint_unavailable`', async () => {
    const { ctx: c } = await setup({ RETRY_IN_CALL: '2', RETRY_BASE: '20ms' });
    suite.sim.control({ token: { outage: 503 } });
    const [id] = await enqueueUsers(c, ['rita@contoso.com']);
    await waitFor(async () => (await getCircuit(c)).open, { what: 'the circuit to open', timeoutMs: 45_000 });
    expect((await getCircuit(c)).code).toBe('token_endpoint_unavailable');
    await waitFor(async () => (await c.retire.getJobCounts('active')).active === 0, {
      what: 'no active jobs',
    });
    // Two in-call retries first (MSAL may answer them from its throttling cache without a request).
    // Fleet counters are buffered (about 1 s) and flushed on close: closing makes them final.
    await suite.closeWorkers();
    expect((await readMetrics(c.redis, c.prefix)).retries).toBe(2);
    expect(suite.sim.stats().token.requests).toBeGreaterThanOrEqual(1);
    expect(suite.sim.stats().graph.calls).toBe(0);
    const o = await outcomeOf(c, id as string);
    expect(o.attemptsMade).toBe(0);
    expect(o.deadLetter).toBeUndefined();
  });

  it('403 to a token without the retire permission (consent removed) opens the circuit at the first call, nobody dead-lettered', async () => {
    suite.sim.control({ permissions: { deny: ['DeviceManagementManagedDevices.PrivilegedOperations.All'] } });
    try {
      // A threshold of 5 users would dead-letter four leavers before the distinct-users rule trips.
      const { ctx: c } = await setup({ WORKER_CONCURRENCY: '1', CIRCUIT_FORBIDDEN_THRESHOLD: '5' });
      const ids = await enqueueUsers(c, users('consent', 6));
      await waitFor(async () => (await getCircuit(c)).open, { what: 'the circuit to open' });
      await waitFor(async () => (await c.retire.getJobCounts('active')).active === 0, {
        what: 'no active jobs',
      });
      const circuit = await getCircuit(c);
      expect(circuit.code).toBe('permission_missing');
      expect(circuit.reason).toContain('DeviceManagementManagedDevices.PrivilegedOperations.All');
      expect(suite.sim.stats().graph.byStatus['403']).toBe(1);
      expect(await c.deadLetter.count()).toBe(0);
      for (const id of ids) expect((await outcomeOf(c, id)).deadLetter).toBeUndefined();

      suite.sim.control({
        permissions: { grant: ['DeviceManagementManagedDevices.PrivilegedOperations.All'] },
      });
      await resumeQueue(c, 'test-operator');
      const out = await waitForOutcomes(c, ids);
      for (const o of out) expect(o.record?.outcome).toBe('retired');
    } finally {
      suite.sim.control({
        permissions: { grant: ['DeviceManagementManagedDevices.PrivilegedOperations.All'] },
      });
    }
  });

  it('a few 403s in a big batch (out-of-scope users) are dead-lettered `forbidden`; the circuit stays closed', async () => {
    // Under the old rule (5 distinct users with 403 within 60 s) these 6 would have halted the fleet.
    const { ctx: c } = await setup({ WORKER_CONCURRENCY: '8' });
    const batch = users('staff', 120);
    for (let i = 0; i < 6; i++) batch[10 + i * 18] = `forbidden-scope${i}@contoso.com`;
    const ids = await enqueueUsers(c, batch);
    const out = await waitForOutcomes(c, ids, 60_000);
    expect((await getCircuit(c)).open).toBe(false);
    expect(await c.retire.isPaused()).toBe(false);
    const reasons = out.filter((o) => o.deadLetter).map((o) => o.deadLetter?.reason);
    expect(reasons).toEqual(Array(6).fill('forbidden'));
    expect(out.filter((o) => o.record?.outcome === 'retired')).toHaveLength(114);
  });

  it('403s from a high share of the distinct users called open the circuit even after many successes', async () => {
    const { ctx: c } = await setup({ WORKER_CONCURRENCY: '4', CIRCUIT_FORBIDDEN_SHARE: '0.5' });
    const good = await enqueueUsers(c, users('fine', 8));
    await waitForOutcomes(c, good);
    // From now on every user gets 403, as when the app's permission or scope tags were removed.
    const ids = await enqueueUsers(c, users('forbidden-late', 30));
    await waitFor(async () => (await getCircuit(c)).open, { what: 'the circuit to open' });
    await waitFor(async () => (await c.retire.getJobCounts('active')).active === 0, {
      what: 'no active jobs',
    });
    expect((await getCircuit(c)).code).toBe('forbidden_many');
    // 8 earlier successes in the window: the share reaches one half at the 8th distinct 403 user.
    const dead = await c.deadLetter.getJobCountByTypes('waiting');
    expect(dead).toBeGreaterThanOrEqual(4);
    expect(dead).toBeLessThanOrEqual(10);
    const states = await Promise.all(ids.map((id) => outcomeOf(c, id)));
    expect(states.filter((o) => o.state !== 'failed').length).toBe(30 - dead);
  });
});
