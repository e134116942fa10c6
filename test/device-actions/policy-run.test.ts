// A device policy end to end with real Redis, real BullMQ workers and the Graph simulator over HTTP:
// the leaver-mixed fixture (personal iPhone, company Windows laptop with an Autopilot identity,
// company Android phone) under `standard` and under `dispose` gets exactly the expected Intune calls
// in the expected order, and its record lists every device × action; a supervised iPhone's bypass
// code is read before the wipe and kept encrypted; a 400 on one device ends `partial` with the
// others done, and the redrive sends only what failed; a dry run plans and sends nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJobSecrets } from '../../src/device-actions/secrets.js';
import { readDeviceActions } from '../../src/device-actions/store.js';
import { getEvidence } from '../../src/evidence/store.js';
import { redriveDeadLetter } from '../../src/intake/redrive.js';
import { deadLetterId, keys } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { bypassCode, fixtureDeviceId } from '../../src/sim/graph/device-actions-fixtures.js';
import type { CallLogEntry } from '../../src/sim/types.js';
import { enqueueUsers, waitForOutcomes } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const suite = useWorkerSuite();

const RULES = `
profiles:
  standard:
    rules:
      - match: { ownerType: personal }
        actions: [retire]
      - match: { ownerType: company, os: Windows }
        actions: [wipe]
        wipe: { keepEnrollmentData: false, keepUserData: false }
      - match: { ownerType: company, os: [iOS, iPadOS, macOS], supervised: true }
        actions: [wipe]
        captureActivationLockBypass: true
      - match: { ownerType: company, os: Android }
        actions: [wipe]
      - match: {}
        actions: [retire]
  dispose:
    rules:
      - match: { ownerType: company, os: Windows }
        actions: [wipe, delete, autopilot-deregister]
      # Intune refuses retire on corporate-owned Android Enterprise devices: wipe only.
      - match: { ownerType: company, os: Android }
        actions: [wipe]
      - match: {}
        actions: [retire]
`;

const dir = mkdtempSync(join(tmpdir(), 'offboard-devact-'));
function policyFile(defaultProfile: string): string {
  const file = join(dir, `${defaultProfile}.yaml`);
  writeFileSync(file, `default: ${defaultProfile}\n${RULES}`);
  return file;
}
const EVIDENCE_KEY = Buffer.alloc(32, 7).toString('base64');

async function start(profile: 'standard' | 'dispose') {
  const config = suite.config({
    DEVICE_POLICY_FILE: policyFile(profile),
    EVIDENCE: 'on',
    EVIDENCE_KEY,
    GRAPH_READ_RATE_LIMIT: '1000/1s',
    GRAPH_RATE_LIMIT: '1000/1s',
  });
  const ctx = suite.open(config);
  await suite.startWorker(config);
  return { config, ctx };
}

/** The Intune calls the simulator saw about these devices, as `METHOD path-tail`, in arrival order. */
function calls(deviceIds: Record<string, string>, opts: { reads?: boolean } = {}): string[] {
  const name = (path: string) => {
    let p = path.replace(/^\/v1\.0\/deviceManagement\//, '');
    for (const [n, id] of Object.entries(deviceIds)) p = p.replaceAll(id, n);
    return p;
  };
  return (suite.sim.stats().calls as CallLogEntry[])
    .filter((c) => opts.reads || c.write)
    .map((c) => `${c.method} ${name(c.path).replace(/\?.*$/, '')}`);
}

const mixed = (user: string) => ({
  iphone: fixtureDeviceId(user, 'iphone'),
  laptop: fixtureDeviceId(user, 'laptop'),
  android: fixtureDeviceId(user, 'android'),
});

describe('device policy execution', () => {
  it('standard: retire the personal iPhone, wipe the laptop and the company Android, in order; completed', async () => {
    const { ctx } = await start('standard');
    const user = 'leaver-mixed-std@contoso.test';
    const ids = mixed(user);
    const [jobId] = await enqueueUsers(ctx, [user]);
    const [out] = await waitForOutcomes(ctx, [jobId as string]);
    expect(out?.deadLetter).toBeUndefined();
    expect(calls(ids)).toEqual([
      'POST managedDevices/iphone/retire',
      'POST managedDevices/laptop/wipe',
      'POST managedDevices/android/wipe',
    ]);
    const record = out?.record;
    expect(record).toMatchObject({ outcome: 'completed', devicePolicy: 'standard', devices: 3, attempts: 3 });
    expect(record?.deviceActions?.map((r) => [r.deviceId, r.action, r.state, r.status])).toEqual([
      [ids.iphone, 'retire', 'done', 204],
      [ids.laptop, 'wipe', 'done', 204],
      [ids.android, 'wipe', 'done', 204],
    ]);
    expect(record?.deviceActions?.every((r) => typeof r.requestId === 'string')).toBe(true);
    // The same results in Redis (readDeviceActions) and with the evidence; one audit entry per call.
    expect(await readDeviceActions(ctx.redis, ctx.prefix, jobId as string)).toHaveLength(3);
    const evidence = (await getEvidence(ctx.redis, ctx.prefix, jobId as string)) as unknown as {
      outcome: string;
      deviceActions: unknown[];
      devicePlan: { deviceId: string; rule: number }[];
    };
    expect(evidence.outcome).toBe('completed');
    expect(evidence.deviceActions).toHaveLength(3);
    expect(evidence.devicePlan.map((p) => p.rule)).toEqual([1, 2, 4]);
    const audit = (await readAudit(ctx, { count: 100 })).filter((e) => e.jobId === jobId);
    const actions = audit.filter((e) => e.type === 'device-action').reverse(); // newest first
    expect(actions.map((e) => [e.details?.deviceId, e.details?.action, e.details?.status])).toEqual([
      [ids.iphone, 'retire', 204],
      [ids.laptop, 'wipe', 204],
      [ids.android, 'wipe', 204],
    ]);
    expect(audit.map((e) => e.type)).toContain('completed');
  });

  it('dispose: the laptop is wiped, deleted, then deregistered from Autopilot; the phones retired', async () => {
    const { ctx } = await start('dispose');
    const user = 'leaver-mixed-dsp@contoso.test';
    const ids = mixed(user);
    const [jobId] = await enqueueUsers(ctx, [user]);
    const [out] = await waitForOutcomes(ctx, [jobId as string]);
    expect(out?.deadLetter).toBeUndefined();
    const all = calls(ids, { reads: true });
    const identity = suite.sim
      .stats()
      .calls.find((c) => c.method === 'DELETE' && c.path.includes('Autopilot'));
    const identityId = identity?.path.split('/').pop() as string;
    expect(identityId).toBeTruthy();
    expect(all.map((c) => c.replace(identityId, 'identity'))).toEqual([
      'POST managedDevices/iphone/retire',
      'POST managedDevices/laptop/wipe',
      'DELETE managedDevices/laptop',
      'GET windowsAutopilotDeviceIdentities',
      'DELETE windowsAutopilotDeviceIdentities/identity',
      'POST managedDevices/android/wipe',
    ]);
    expect(out?.record).toMatchObject({ outcome: 'completed', devicePolicy: 'dispose' });
    expect(out?.record?.deviceActions?.map((r) => [r.deviceId, r.action, r.state])).toEqual([
      [ids.iphone, 'retire', 'done'],
      [ids.laptop, 'wipe', 'done'],
      [ids.laptop, 'delete', 'done'],
      [ids.laptop, 'autopilot-deregister', 'done'],
      [ids.android, 'wipe', 'done'],
    ]);
  });

  it('a supervised iPhone: the bypass code is read before the wipe, kept encrypted, never audited', async () => {
    const { ctx } = await start('standard');
    const user = 'leaver-supervised-sue@contoso.test';
    const phone = fixtureDeviceId(user, 'supervised');
    const [jobId] = await enqueueUsers(ctx, [user]);
    const [out] = await waitForOutcomes(ctx, [jobId as string]);
    const seen = suite.sim.stats().calls.map((c) => `${c.method} ${c.path}`);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(
      new RegExp(`^GET .*managedDevices/${phone}\\?\\$select=.*activationLockBypassCode`),
    );
    expect(seen[1]).toBe(`POST /v1.0/deviceManagement/managedDevices/${phone}/wipe`);
    expect(out?.record?.deviceActions?.[0]).toMatchObject({
      action: 'wipe',
      state: 'done',
      message: 'activation lock bypass code kept',
    });
    const code = bypassCode(phone);
    const all = JSON.stringify(await ctx.redis.keys(`${ctx.prefix}*`)) + JSON.stringify(await readAudit(ctx));
    expect(all).not.toContain(code);
    const read = await readJobSecrets(ctx, { jobId: jobId as string, actor: 'tester', via: 'cli' });
    expect(read.secrets).toEqual([expect.objectContaining({ deviceId: phone, value: code })]);
  });

  it('a 400 on one device: partial with the others done; the redrive sends only the failed device', async () => {
    const { ctx } = await start('standard');
    const user = 'leaver-mixed-bad@contoso.test';
    const ids = mixed(user);
    // Intune refuses the Android wipe once (as it refuses a wipe the platform does not support).
    suite.sim.control({ script: { [ids.android]: [400] } });
    const [jobId] = await enqueueUsers(ctx, [user]);
    const [out] = await waitForOutcomes(ctx, [jobId as string]);
    expect(out?.state).toBe('failed');
    const dl = out?.deadLetter;
    expect(dl).toMatchObject({ reason: 'partial', lastStatus: 400, failedDevices: [ids.android] });
    expect(dl?.graphMessage).toMatch(new RegExp(`failed on 1 of 3 devices: .*\\(${ids.android}\\) wipe 400`));
    expect(dl?.deviceActions?.map((r) => [r.deviceId, r.state])).toEqual([
      [ids.iphone, 'done'],
      [ids.laptop, 'done'],
      [ids.android, 'failed'],
    ]);
    expect(calls(ids)).toHaveLength(3);

    const before = suite.sim.stats().calls.length;
    const redriven = await redriveDeadLetter(ctx, deadLetterId(jobId as string), 'ops-tester');
    const [again] = await waitForOutcomes(ctx, [redriven.jobId]);
    const after = suite.sim.stats().calls.slice(before);
    expect(after.filter((c) => c.write).map((c) => `${c.method} ${c.path}`)).toEqual([
      `POST /v1.0/deviceManagement/managedDevices/${ids.android}/wipe`,
    ]);
    expect(again?.record).toMatchObject({ outcome: 'completed', devicePolicy: 'standard' });
    expect(again?.record?.deviceActions?.map((r) => [r.deviceId, r.state])).toEqual([
      [ids.iphone, 'done'],
      [ids.laptop, 'done'],
      [ids.android, 'done'],
    ]);
  });

  it('a 503 and a 429 on a device write are retried like the retire: one wipe applied, the wait counted', async () => {
    const { ctx } = await start('standard');
    const user = 'leaver-mixed-flaky@contoso.test';
    const ids = mixed(user);
    suite.sim.control({ script: { [ids.laptop]: [503, { status: 429, retryAfter: '1' }] } });
    const [jobId] = await enqueueUsers(ctx, [user]);
    const [out] = await waitForOutcomes(ctx, [jobId as string]);
    expect(out?.record).toMatchObject({ outcome: 'completed', attempts: 5, throttledWaits: 1 });
    const laptop = suite.sim.stats().calls.filter((c) => c.path.endsWith(`${ids.laptop}/wipe`));
    expect(laptop.map((c) => c.status)).toEqual([503, 429, 204]);
    // Nothing arrived inside the announced Retry-After window.
    expect(suite.sim.stats().graph.insideRetryAfterWindow).toBe(0);
  });

  it("one device's lone 403 fails that device only; the laptop's delete is skipped after its failed wipe", async () => {
    const { ctx } = await start('dispose');
    const user = 'leaver-mixed-scope@contoso.test';
    const ids = mixed(user);
    suite.sim.control({ script: { [ids.laptop]: [403] } });
    const [jobId] = await enqueueUsers(ctx, [user]);
    const [out] = await waitForOutcomes(ctx, [jobId as string]);
    expect(out?.deadLetter).toMatchObject({
      reason: 'partial',
      lastStatus: 403,
      failedDevices: [ids.laptop],
    });
    expect(out?.deadLetter?.deviceActions?.map((r) => [r.deviceId, r.action, r.state])).toEqual([
      [ids.iphone, 'retire', 'done'],
      [ids.laptop, 'wipe', 'failed'],
      [ids.laptop, 'delete', 'skipped'],
      [ids.laptop, 'autopilot-deregister', 'skipped'],
      [ids.android, 'wipe', 'done'],
    ]);
    // Nothing was sent for the skipped actions, and one user's 403 opens no circuit.
    expect(suite.sim.stats().calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(await ctx.redis.exists(keys.circuit(ctx.prefix))).toBe(0);
  });

  it('a dry run plans every device × action and sends nothing', async () => {
    const { ctx } = await start('dispose');
    const user = 'leaver-mixed-dry@contoso.test';
    const ids = mixed(user);
    const [jobId] = await enqueueUsers(ctx, [user], { dryRun: true });
    const [out] = await waitForOutcomes(ctx, [jobId as string]);
    expect(out?.record).toMatchObject({ outcome: 'dry_run', devicePolicy: 'dispose', attempts: 0 });
    expect(out?.record?.deviceActions?.map((r) => [r.deviceId, r.action, r.state])).toEqual([
      [ids.iphone, 'retire', 'planned'],
      [ids.laptop, 'wipe', 'planned'],
      [ids.laptop, 'delete', 'planned'],
      [ids.laptop, 'autopilot-deregister', 'planned'],
      [ids.android, 'wipe', 'planned'],
    ]);
    expect(suite.sim.stats().calls.filter((c) => c.write)).toEqual([]);
  });
});
