// The inventory before the action, against a real Redis and the simulator: paging (3 devices, page
// size 2), the audit entry and read metrics, the evidence record the worker keeps, one read per job
// even when the POST is retried durably, and dry runs inventoried without a POST.

import { describe, expect, it } from 'vitest';
import { InventoryForbiddenError, takeInventory } from '../../src/evidence/inventory.js';
import { verifyJobId, verifyQueue } from '../../src/evidence/schedule.js';
import { getEvidence } from '../../src/evidence/store.js';
import { graphContext } from '../../src/graph/call.js';
import { createReadPacer } from '../../src/pacing/read-pacer.js';
import { keys } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { readMetrics } from '../../src/records/metrics.js';
import { PERMISSIONS } from '../../src/sim/tokens.js';
import { fetchAppToken } from '../helpers/sim.js';
import { enqueueUsers, waitFor, waitForOutcomes } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const suite = useWorkerSuite({
  resetSim: (sim) => sim.control({ devicesPageSize: 100, permissions: { grant: [PERMISSIONS.readDevices] } }),
});

const EVIDENCE_ON = { EVIDENCE: 'on', GRAPH_READ_RATE_LIMIT: '1000/1s', VERIFY_AFTER: '1h' };

describe('inventory', () => {
  it('reads every page (3 devices, page size 2), audits one `inventory` entry and counts the read calls', async () => {
    const config = suite.config(EVIDENCE_ON);
    const ctx = suite.open(config);
    suite.sim.control({ devices: { 'paged@contoso.com': 3 }, devicesPageSize: 2 });
    const token = await fetchAppToken(suite.sim);
    const readPacer = createReadPacer({ redis: ctx.redis, prefix: ctx.prefix, config });
    const inventory = await takeInventory(
      {
        ctx,
        graph: graphContext(config, { getToken: async () => token }, readPacer),
        actor: 'test',
      },
      { jobId: 'job-1', user: 'paged@contoso.com', correlationId: 'c-1' },
    );
    expect(inventory.devices).toHaveLength(3);
    expect(inventory.pages).toBe(2);
    expect(inventory.requestIds).toHaveLength(2);
    expect(new Set(inventory.devices.map((d) => d.id)).size).toBe(3);
    expect(inventory.devices[0]).toHaveProperty('serialNumber');
    expect(suite.sim.stats().reads?.byUser['paged@contoso.com']).toBe(2);
    const audit = (await readAudit(ctx, { count: 10 })).filter((e) => e.type === 'inventory');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      jobId: 'job-1',
      user: 'paged@contoso.com',
      details: { devices: 3, pages: 2, requestIds: inventory.requestIds },
    });
    const metrics = await readMetrics(ctx.redis, ctx.prefix);
    expect(metrics['read_calls:200']).toBe(2);
    expect(metrics.devices_inventoried).toBe(3);
  });

  it('turns a 403 on the read into InventoryForbiddenError upstream: takeInventory rethrows the GraphError and audits it', async () => {
    const config = suite.config(EVIDENCE_ON);
    const ctx = suite.open(config);
    suite.sim.control({ permissions: { deny: [PERMISSIONS.readDevices] } });
    const token = await fetchAppToken(suite.sim);
    const readPacer = createReadPacer({ redis: ctx.redis, prefix: ctx.prefix, config });
    const err = await takeInventory(
      {
        ctx,
        graph: graphContext(config, { getToken: async () => token }, readPacer),
        actor: 'test',
      },
      { jobId: 'job-2', user: 'denied@contoso.com' },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403 });
    expect(err).not.toBeInstanceOf(InventoryForbiddenError);
    const audit = (await readAudit(ctx, { count: 10 })).filter((e) => e.type === 'inventory');
    expect(audit[0]?.details).toMatchObject({ ok: false, status: 403 });
    expect((await readMetrics(ctx.redis, ctx.prefix))['read_calls:403']).toBe(1);
  });

  it('the worker keeps the inventory in the record and the evidence, with the action and a scheduled verification', async () => {
    const config = suite.config(EVIDENCE_ON);
    const ctx = suite.open(config);
    suite.sim.control({ devices: { 'three@contoso.com': 3 }, devicesPageSize: 2 });
    await suite.startWorker(config);
    const [id] = await enqueueUsers(ctx, ['three@contoso.com']);
    const [out] = await waitForOutcomes(ctx, [id as string]);
    expect(out?.record).toMatchObject({ outcome: 'retired', devices: 3, attempts: 1 });
    const evidence = await getEvidence(ctx.redis, ctx.prefix, id as string);
    expect(evidence?.devices).toHaveLength(3);
    expect(evidence?.inventoryRequestIds).toHaveLength(2);
    expect(evidence?.action).toMatchObject({ status: 204, requestId: out?.record?.requestId });
    expect(Date.parse(evidence?.action?.at ?? '')).toBeGreaterThanOrEqual(
      Date.parse(evidence?.inventoriedAt ?? ''),
    );
    expect(evidence?.verification.state).toBe('pending');
    expect(evidence?.verification.devices.map((d) => d.result)).toEqual(['pending', 'pending', 'pending']);
    const verify = await verifyQueue(ctx).getJob(verifyJobId(id as string));
    expect(verify?.data).toMatchObject({ jobId: id, user: 'three@contoso.com' });
    expect(await verify?.getState()).toBe('delayed');
    // The audit tells the story in order: inventory, attempt, retired.
    const types = (await readAudit(ctx, { count: 20, reverse: false }))
      .filter((e) => e.jobId === id)
      .map((e) => e.type)
      .filter((t) => t !== 'requested');
    expect(types.indexOf('inventory')).toBeLessThan(types.indexOf('attempt'));
    expect(types).toContain('retired');
  });

  it('a durable retry of the POST reuses the inventory: the devices are read once per job', async () => {
    const config = suite.config({
      ...EVIDENCE_ON,
      RETRY_IN_CALL: '0',
      RETRY_BASE: '20ms',
      RETRY_CAP: '50ms',
    });
    const ctx = suite.open(config);
    suite.sim.control({
      devices: { 'retry@contoso.com': 2 },
      script: { 'retry@contoso.com': [503, 503, 204] },
    });
    await suite.startWorker(config);
    const [id] = await enqueueUsers(ctx, ['retry@contoso.com']);
    const [out] = await waitForOutcomes(ctx, [id as string]);
    expect(out?.record).toMatchObject({ outcome: 'retired', devices: 2, attempts: 3 });
    expect(out?.attemptsMade).toBeGreaterThanOrEqual(2);
    expect(suite.sim.stats().graph.byUser['retry@contoso.com']).toBe(3);
    expect(suite.sim.stats().reads?.byUser['retry@contoso.com']).toBe(1);
  });

  it('a dry run is inventoried (what WOULD be retired) and sends no POST', async () => {
    const config = suite.config(EVIDENCE_ON);
    const ctx = suite.open(config);
    suite.sim.control({ devices: { 'dry@contoso.com': 2 } });
    await suite.startWorker(config);
    const [id] = await enqueueUsers(ctx, ['dry@contoso.com'], { dryRun: true });
    const [out] = await waitForOutcomes(ctx, [id as string]);
    expect(out?.record).toMatchObject({ outcome: 'dry_run', devices: 2, attempts: 0 });
    expect(suite.sim.stats().graph.calls).toBe(0);
    expect(suite.sim.stats().reads?.byUser['dry@contoso.com']).toBe(1);
    const evidence = await getEvidence(ctx.redis, ctx.prefix, id as string);
    expect(evidence).toMatchObject({ outcome: 'dry_run', verification: { state: 'not_applicable' } });
    expect(evidence?.action).toBeUndefined();
    expect(await verifyQueue(ctx).getJob(verifyJobId(id as string))).toBeUndefined();
  });

  it('a read 404 (unknown user) dead-letters `not_found` without a POST', async () => {
    const config = suite.config(EVIDENCE_ON);
    const ctx = suite.open(config);
    await suite.startWorker(config);
    const [id] = await enqueueUsers(ctx, ['notfound-ghost@contoso.com']);
    const [out] = await waitForOutcomes(ctx, [id as string]);
    expect(out?.deadLetter).toMatchObject({ reason: 'not_found', lastStatus: 404 });
    expect(suite.sim.stats().graph.calls).toBe(0);
    expect(suite.sim.stats().reads?.byUser['notfound-ghost@contoso.com']).toBe(1);
  });
});

describe('read throttling', () => {
  it('a read 429 gates reads only: writes go on while reads are gated, and it is no throttled wait of the job', async () => {
    const config = suite.config({
      ...EVIDENCE_ON,
      WORKER_CONCURRENCY: '8',
    });
    const ctx = suite.open(config);
    const c = ctx;
    const leavers = Array.from({ length: 8 }, (_, i) => `gated${i}@contoso.com`);
    // Intune's read budget (scaled down): 4 reads per 3 s; the 5th read gets 429 + Retry-After.
    suite.sim.control({
      devices: Object.fromEntries(leavers.map((u) => [u, 1])),
      readLimit: { limit: 4, windowMs: 3000 },
    });
    await suite.startWorker(config);
    const ids = await enqueueUsers(c, leavers);
    const gateUntil = await waitFor(
      async () => Number((await c.redis.get(keys.readThrottleGate(c.prefix))) ?? 0),
      {
        what: 'the read gate',
        intervalMs: 20,
      },
    );
    const outcomes = await waitForOutcomes(c, ids, 30_000);
    expect(outcomes.map((o) => o.record?.outcome)).toEqual(leavers.map(() => 'retired'));
    expect(outcomes.every((o) => o.record?.throttledWaits === 0)).toBe(true);
    const posts = suite.sim
      .stats()
      .graph.log.map((e) => e.at)
      .sort((a, b) => a - b);
    expect(posts).toHaveLength(8);
    // The leavers read before the 429 were retired while the read gate was still closed …
    expect(posts.filter((at) => at < gateUntil - 1000).length).toBeGreaterThanOrEqual(4);
    // … and no read went out inside it; the write budget never saw a gate or a 429.
    expect(suite.sim.stats().reads?.throttled).toBeGreaterThanOrEqual(1);
    expect(suite.sim.stats().reads?.insideRetryAfterWindow).toBe(0);
    expect(suite.sim.stats().graph.throttled).toBe(0);
    expect(await c.redis.exists(keys.throttleGate(c.prefix))).toBe(0);
  });
});
