// No devices, no write: a leaver whose inventory is empty ends `no_devices` without a POST (the write
// budget is the scarce resource), unless RETIRE_WHEN_NO_DEVICES=true; EVIDENCE=off reads nothing.
import { describe, expect, it } from 'vitest';
import { getEvidence } from '../../src/evidence/store.js';
import { readAudit } from '../../src/records/audit.js';
import { readMetrics } from '../../src/records/metrics.js';
import { enqueueUsers, waitFor, waitForOutcomes } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const suite = useWorkerSuite();

async function run(env: Record<string, string>, users: string[]) {
  const config = suite.config({
    GRAPH_READ_RATE_LIMIT: '1000/1s',
    ...env,
  });
  const ctx = suite.open(config);
  await suite.startWorker(config);
  const ids = await enqueueUsers(ctx, users);
  return { ids, outcomes: await waitForOutcomes(ctx, ids), ctx };
}

describe('no devices, no write', () => {
  it('zero devices → outcome no_devices, no POST, audit no_devices, metric outcome:no_devices, devices 0', async () => {
    suite.sim.control({ devices: { 'empty@contoso.com': 0, 'one@contoso.com': 1 } });
    const { ids, outcomes, ctx: c } = await run({ EVIDENCE: 'on' }, ['empty@contoso.com', 'one@contoso.com']);
    expect(outcomes[0]?.record).toMatchObject({ outcome: 'no_devices', devices: 0, attempts: 0 });
    expect(outcomes[0]?.record?.requestId).toBeUndefined();
    expect(outcomes[1]?.record).toMatchObject({ outcome: 'retired', devices: 1, attempts: 1 });
    // The simulator never saw a retire POST for the empty leaver, one for the other.
    expect(suite.sim.stats().graph.byUser['empty@contoso.com']).toBeUndefined();
    expect(suite.sim.stats().graph.byUser['one@contoso.com']).toBe(1);
    expect(suite.sim.stats().reads?.byUser['empty@contoso.com']).toBe(1);
    const audit = (await readAudit(c, { count: 50 })).filter((e) => e.jobId === ids[0]);
    expect(audit.map((e) => e.type)).toContain('no_devices');
    expect(audit.map((e) => e.type)).not.toContain('attempt');
    // Fleet counters are buffered by the worker (one write a second).
    const metrics = await waitFor(async () => {
      const m = await readMetrics(c.redis, c.prefix);
      return m['outcome:no_devices'] && m['outcome:retired'] ? m : undefined;
    });
    expect(metrics['outcome:no_devices']).toBe(1);
    expect(metrics['outcome:retired']).toBe(1);
    const evidence = await getEvidence(c.redis, c.prefix, ids[0] as string);
    expect(evidence).toMatchObject({
      outcome: 'no_devices',
      devices: [],
      verification: { state: 'not_applicable' },
    });
    expect(evidence?.action).toBeUndefined();
  });

  it('RETIRE_WHEN_NO_DEVICES=true sends the retire anyway; nothing to verify', async () => {
    suite.sim.control({ devices: { 'empty@contoso.com': 0 } });
    const {
      ids,
      outcomes,
      ctx: c,
    } = await run({ EVIDENCE: 'on', RETIRE_WHEN_NO_DEVICES: 'true' }, ['empty@contoso.com']);
    expect(outcomes[0]?.record).toMatchObject({ outcome: 'retired', devices: 0, attempts: 1 });
    expect(suite.sim.stats().graph.byUser['empty@contoso.com']).toBe(1);
    const evidence = await getEvidence(c.redis, c.prefix, ids[0] as string);
    expect(evidence?.action?.status).toBe(204);
    expect(evidence?.verification.state).toBe('not_applicable');
  });

  it('EVIDENCE=off makes no reads at all: every leaver gets the POST, no evidence is kept', async () => {
    suite.sim.control({ devices: { 'empty@contoso.com': 0, 'one@contoso.com': 1 } });
    const {
      ids,
      outcomes,
      ctx: c,
    } = await run({ EVIDENCE: 'off' }, ['empty@contoso.com', 'one@contoso.com']);
    expect(outcomes.map((o) => o.record?.outcome)).toEqual(['retired', 'retired']);
    expect(outcomes[0]?.record?.devices).toBeUndefined();
    expect(suite.sim.stats().reads?.calls).toBe(0);
    expect(suite.sim.stats().graph.calls).toBe(2);
    expect(await getEvidence(c.redis, c.prefix, ids[0] as string)).toBeNull();
    const metrics = await readMetrics(c.redis, c.prefix);
    expect(Object.keys(metrics).filter((k) => k.startsWith('read_calls'))).toEqual([]);
    expect((await readAudit(c, { count: 50 })).map((e) => e.type)).not.toContain('inventory');
  });
});
