// Verification after the action, end to end: a real worker (its verify worker on the `verify`
// queue), real Redis, the simulator's devices over HTTP, short VERIFY_AFTER/VERIFY_WINDOW. The
// retire itself is a real 204 from the simulator; the evidence record is what the retire processor
// saves, seeded here so each path (verified, unverified, failed, failed reads, read 429, restart,
// reverify) is tested on its own.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerFleetMetrics } from '../../src/api/metrics/fleet.js';
import type { Config } from '../../src/config/load.js';
import {
  EvidenceNotFoundError,
  NothingToVerifyError,
  requestReverify,
  scheduleVerification,
  verifyJobId,
  verifyQueue,
} from '../../src/evidence/schedule.js';
import {
  countByVerificationState,
  getEvidence,
  listUnverified,
  saveEvidence,
} from '../../src/evidence/store.js';
import { NOTE_READ_FAILED } from '../../src/evidence/verification.js';
import type { EvidenceRecord } from '../../src/interfaces.js';
import type { QueueContext } from '../../src/queue/context.js';
import { readAudit, userHistory } from '../../src/records/audit.js';
import { readMetrics } from '../../src/records/metrics.js';
import { fetchAppToken, postRetire } from '../helpers/sim.js';
import { enqueueUsers, waitFor, waitForOutcomes } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const AFTER = 300;
const WINDOW = 4000;

const suite = useWorkerSuite({
  sim: { retireDelayMs: 500 },
  resetSim: (sim) => sim.control({ retireDelayMs: 500 }),
});

function shortConfig(env: Record<string, string> = {}): Config {
  const config = suite.config({
    EVIDENCE: 'on',
    GRAPH_READ_RATE_LIMIT: '1000/1s',
    ...env,
  });
  return { ...config, evidence: { ...config.evidence, verifyAfterMs: AFTER, verifyWindowMs: WINDOW } };
}

async function setup(env: Record<string, string> = {}) {
  const config = shortConfig(env);
  const ctx = suite.open(config);
  const worker = await suite.startWorker(config);
  return { config, ctx, worker };
}

/** A real retire (204 from the simulator) and the evidence record the retire processor saves. */
async function retireAndSeed(
  ctx: QueueContext,
  config: Config,
  user: string,
  devices: number,
): Promise<EvidenceRecord> {
  suite.sim.control({ devices: { [user]: devices } });
  const inventory = suite.sim.devices(user).devices;
  expect(inventory).toHaveLength(devices);
  const res = await postRetire(suite.sim, user, await fetchAppToken(suite.sim));
  expect(res.status).toBe(204);
  const at = Date.now();
  const record: EvidenceRecord = {
    jobId: `job-${user.split('@')[0]}-${at}`,
    user,
    requestedBy: 'test',
    correlationId: `corr-${at}`,
    source: 'api',
    inventoriedAt: new Date(at - 5).toISOString(),
    inventoryRequestIds: ['inv-1'],
    devices: inventory,
    action: {
      at: new Date(at).toISOString(),
      requestId: res.headers.get('request-id') ?? undefined,
      status: 204,
    },
    outcome: 'retired',
    verification: { state: 'pending', checks: 0, devices: [], deadline: new Date(at + WINDOW).toISOString() },
  };
  await saveEvidence(ctx.redis, ctx.prefix, record, config.evidence.retentionMs);
  await scheduleVerification(ctx, record, config);
  return record;
}

async function ended(ctx: QueueContext, jobId: string, timeoutMs = 15_000): Promise<EvidenceRecord> {
  return waitFor(
    async () => {
      const r = await getEvidence(ctx.redis, ctx.prefix, jobId);
      return r && r.verification.state !== 'pending' ? r : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `verification of ${jobId} to end` },
  );
}

describe('verification after the action', () => {
  it('verified: devices go retirePending, then disappear; every inventoried device ends retired', async () => {
    // Devices leave 1.5 s after the retire: the first read (300 ms) sees them retirePending even on a busy machine.
    suite.sim.control({ retireDelayMs: 1500 });
    const { ctx, config } = await setup();
    const record = await retireAndSeed(ctx, config, 'vera@contoso.com', 2);
    // Idempotent: the retire processor retried after a crash adds the same job again.
    await scheduleVerification(ctx, record, config);
    expect(await verifyQueue(ctx).getJobCounts('delayed', 'waiting', 'active')).toMatchObject({ delayed: 1 });

    const done = await ended(ctx, record.jobId);
    const v = done.verification;
    expect(v.state).toBe('verified');
    expect(v.devices.map((d) => [d.result, d.stateAfter])).toEqual([
      ['retired', null],
      ['retired', null],
    ]);
    // The first read (after 300 ms) still saw retirePending.
    expect(v.checks).toBeGreaterThanOrEqual(2);
    expect(Date.parse(v.endedAt as string)).toBeLessThan(Date.parse(v.deadline as string));
    expect(v.nextCheckAt).toBeUndefined();

    const history = await userHistory(ctx, 'vera@contoso.com');
    const checks = history.filter((e) => e.type === 'verification');
    expect(checks).toHaveLength(v.checks);
    expect(checks[0]?.details).toMatchObject({ check: 1, state: 'pending', pending: 2 });
    expect(history.filter((e) => e.type === 'verified')).toHaveLength(1);

    await waitFor(async () => (await readMetrics(ctx.redis, ctx.prefix))['verification:verified'] === 1, {
      what: 'verified counter',
    });
    const m = await readMetrics(ctx.redis, ctx.prefix);
    expect(m.devices_retired).toBe(2);
    expect(m.verify_checks).toBe(v.checks);
    expect(await countByVerificationState(ctx.redis, ctx.prefix)).toEqual({
      pending: 0,
      verified: 1,
      unverified: 0,
    });
    // /metrics exposes them (the fleet series read from Redis at scrape time).
    const registry = new Registry();
    registerFleetMetrics(registry, ctx);
    const text = await registry.metrics();
    expect(text).toMatch(/^offboard_evidence_leavers\{state="verified"\} 1$/m);
    expect(text).toMatch(/^offboard_evidence_leavers\{state="unverified"\} 0$/m);
    expect(text).toMatch(/^offboard_verifications_total\{state="verified"\} 1$/m);
    expect(text).toMatch(/^offboard_verifications_total\{state="unverified"\} 0$/m);
    expect(text).toMatch(/^offboard_devices_retired_total 2$/m);
    await waitFor(
      async () => (await verifyQueue(ctx).getJobState(verifyJobId(record.jobId))) === 'completed',
      {
        what: 'verify job completed',
      },
    );
  });

  it('unverified: a device that never checks in is not_retired at the deadline; reverify later proves it', async () => {
    const { ctx, config } = await setup();
    const user = 'nocheckin-nick@contoso.com';
    const record = await retireAndSeed(ctx, config, user, 2);
    const done = await ended(ctx, record.jobId);
    const v = done.verification;
    expect(v.state).toBe('unverified');
    expect(v.devices.map((d) => [d.result, d.stateAfter])).toEqual([
      ['not_retired', 'retirePending'],
      ['not_retired', 'retirePending'],
    ]);
    // Reads backed off (300 ms, then doubling) and the last one was at the deadline, not before.
    expect(Date.parse(v.endedAt as string)).toBeGreaterThanOrEqual(Date.parse(v.deadline as string));
    expect(v.checks).toBeGreaterThanOrEqual(3);
    expect(v.checks).toBeLessThanOrEqual(6);
    expect((await listUnverified(ctx.redis, ctx.prefix)).map((r) => r.jobId)).toEqual([record.jobId]);
    expect((await userHistory(ctx, user)).filter((e) => e.type === 'unverified')).toHaveLength(1);

    // The devices finally check in (an admin re-issued the retire): an operator re-verifies.
    suite.sim.control({ devices: { [user]: 0 } });
    const r = await requestReverify(ctx, record.jobId, 'alice', config);
    expect(r).toMatchObject({
      round: 1,
      verifyJobId: `verify-${record.jobId}-r1`,
      previousState: 'unverified',
    });
    expect(await listUnverified(ctx.redis, ctx.prefix)).toEqual([]);
    const again = await ended(ctx, record.jobId);
    expect(again.verification.state).toBe('verified');
    expect(again.verification.round).toBe(1);
    expect(again.verification.checks).toBe(v.checks + 1);
    expect(Date.parse(again.verification.deadline as string)).toBeGreaterThan(
      Date.parse(v.deadline as string),
    );
    const audit = await readAudit(ctx, { count: 500 });
    const reverify = audit.filter((e) => e.type === 'reverify');
    expect(reverify).toHaveLength(1);
    expect(reverify[0]).toMatchObject({ actor: 'alice', jobId: record.jobId, details: { round: 1 } });
    expect(await countByVerificationState(ctx.redis, ctx.prefix)).toEqual({
      pending: 0,
      verified: 1,
      unverified: 0,
    });
  });

  it('failed: retireFailed ends unverified at once (before the deadline), with the failed device; the event goes out', async () => {
    const events: { type?: string; data?: Record<string, unknown> }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        events.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    suite.defer(() => new Promise((r) => receiver.close(r)));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const { ctx, config } = await setup({ WEBHOOK_URLS: url, WEBHOOK_SECRET: 'x'.repeat(32) });
    const record = await retireAndSeed(ctx, config, 'retirefail-fred@contoso.com', 1);
    const done = await ended(ctx, record.jobId);
    const event = await waitFor(() => events.find((e) => e.type === 'offboarding.unverified'), {
      what: 'the offboarding.unverified webhook',
    });
    expect(event.data).toMatchObject({
      jobId: record.jobId,
      outcome: 'unverified',
      verification: { failed: 1, retired: 0, notRetired: 0 },
    });
    expect(done.verification.state).toBe('unverified');
    expect(done.verification.devices[0]).toMatchObject({ result: 'failed', stateAfter: 'retireFailed' });
    expect(Date.parse(done.verification.endedAt as string)).toBeLessThan(
      Date.parse(done.verification.deadline as string),
    );
  });

  it('reads that keep failing (503) are retried, then the devices are not_retired at the deadline with a note', async () => {
    const { ctx, config } = await setup();
    const user = 'olga@contoso.com';
    suite.sim.control({ readScript: { [user]: Array.from({ length: 50 }, () => 503) } });
    suite.defer(async () => suite.sim.control({ readScript: { [user]: [] } }));
    const record = await retireAndSeed(ctx, config, user, 1);
    const done = await ended(ctx, record.jobId);
    expect(done.verification.state).toBe('unverified');
    expect(done.verification.devices[0]).toMatchObject({ result: 'not_retired', note: NOTE_READ_FAILED });
    expect(done.verification.checks).toBeGreaterThanOrEqual(2);
    const checks = (await userHistory(ctx, user)).filter((e) => e.type === 'verification');
    expect(checks.every((e) => e.details?.readFailed === 503)).toBe(true);
  });

  it('a read 429 gates reads and postpones the check (not counted as one); verification still ends verified', async () => {
    const { ctx, config } = await setup();
    const user = 'tess@contoso.com';
    suite.sim.control({ readScript: { [user]: [{ status: 429, retryAfter: '1' }] } });
    const before = suite.sim.stats().reads?.throttled ?? 0;
    const record = await retireAndSeed(ctx, config, user, 1);
    const done = await ended(ctx, record.jobId);
    expect(done.verification.state).toBe('verified');
    const stats = suite.sim.stats().reads;
    expect((stats?.throttled ?? 0) - before).toBe(1);
    expect(stats?.insideRetryAfterWindow).toBe(0);
    const checks = (await userHistory(ctx, user)).filter((e) => e.type === 'verification');
    expect(checks).toHaveLength(done.verification.checks);
    expect(checks.some((e) => e.details?.readFailed !== undefined)).toBe(false);
  });

  it('survives a restart in the middle of the window: a new worker finishes the verification', async () => {
    suite.sim.control({ retireDelayMs: 2500 });
    const config = shortConfig();
    const ctx = suite.open(config);
    const worker = await suite.startWorker(config);
    const record = await retireAndSeed(ctx, config, 'rita@contoso.com', 2);
    await waitFor(
      async () => ((await getEvidence(ctx.redis, ctx.prefix, record.jobId))?.verification.checks ?? 0) >= 1,
      {
        what: 'first check',
      },
    );
    await worker.close();
    const mid = await getEvidence(ctx.redis, ctx.prefix, record.jobId);
    expect(mid?.verification.state).toBe('pending');
    // Nothing runs while no worker is up; the job waits in Redis (delayed, or back from an interrupted check).
    expect(['delayed', 'waiting']).toContain(await verifyQueue(ctx).getJobState(verifyJobId(record.jobId)));
    await new Promise((r) => setTimeout(r, 700));
    await suite.startWorker(config);
    const done = await ended(ctx, record.jobId);
    expect(done.verification.state).toBe('verified');
    expect(done.verification.checks).toBeGreaterThan(mid?.verification.checks ?? 0);
  });

  it('through the whole pipeline: a retire job inventories, retires, and its verification ends verified', async () => {
    const { ctx } = await setup();
    const user = 'paula@contoso.com';
    suite.sim.control({ devices: { [user]: 3 } });
    const [id] = await enqueueUsers(ctx, [user]);
    const [outcome] = await waitForOutcomes(ctx, [id as string]);
    expect(outcome?.record).toMatchObject({ outcome: 'retired', devices: 3 });
    const done = await ended(ctx, id as string);
    expect(done.devices).toHaveLength(3);
    expect(done.action?.status).toBe(204);
    expect(done.verification.state).toBe('verified');
    expect(done.verification.devices.every((d) => d.result === 'retired')).toBe(true);
    const types = (await userHistory(ctx, user)).map((e) => e.type);
    expect(types.indexOf('inventory')).toBeLessThan(types.indexOf('retired'));
    expect(types.indexOf('retired')).toBeLessThan(types.indexOf('verification'));
    expect(types.at(-1)).toBe('verified');
  });

  it('reverify refuses a job without evidence or with nothing to verify', async () => {
    const config = shortConfig();
    const ctx = suite.open(config);
    await expect(requestReverify(ctx, 'no-such-job', 'alice', config)).rejects.toBeInstanceOf(
      EvidenceNotFoundError,
    );
    const none: EvidenceRecord = {
      jobId: 'nodev-1',
      user: 'nodevices-ned@contoso.com',
      requestedBy: 'test',
      correlationId: 'c',
      source: 'api',
      inventoriedAt: new Date().toISOString(),
      inventoryRequestIds: [],
      devices: [],
      outcome: 'no_devices',
      verification: { state: 'not_applicable', checks: 0, devices: [] },
    };
    await saveEvidence(ctx.redis, ctx.prefix, none, config.evidence.retentionMs);
    await expect(requestReverify(ctx, 'nodev-1', 'alice', config)).rejects.toBeInstanceOf(
      NothingToVerifyError,
    );
    // Nothing was scheduled and nothing audited.
    await scheduleVerification(ctx, none, config);
    expect(await verifyQueue(ctx).getJobCounts('delayed', 'waiting')).toEqual({ delayed: 0, waiting: 0 });
    expect((await readAudit(ctx)).filter((e) => e.type === 'reverify')).toHaveLength(0);
  });
});
