// Verification of a device policy's actions, end to end: a real worker runs the policy (real Redis, the
// simulator over HTTP), the evidence record holds the plan and every device × action, and the verify
// worker proves each one with its own reads: the retired iPhone's and the wiped Android's action log
// says `done`, the wiped-then-deleted laptop answers 404, its Autopilot identity is gone. The evidence
// export then has one row per device × action with that proof.
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import type { DevicePolicy } from '../../src/device-policy/types.js';
import { exportColumns, exportRows, exportShowsActions } from '../../src/evidence/export.js';
import { getEvidence } from '../../src/evidence/store.js';
import type { EvidenceRecord } from '../../src/interfaces.js';
import type { QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { enqueueUsers, waitFor, waitForOutcomes } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const AFTER = 300;
const WINDOW = 5000;

const suite = useWorkerSuite({
  sim: { retireDelayMs: 500 },
  resetSim: (sim) => sim.control({ retireDelayMs: 500 }),
});

const POLICY: DevicePolicy = {
  default: 'dispose',
  profiles: {
    dispose: {
      rules: [
        {
          match: { ownerType: 'company', os: 'Windows' },
          actions: ['wipe', 'delete', 'autopilot-deregister'],
        },
        { match: { ownerType: 'company' }, actions: ['wipe'] },
        { match: {}, actions: ['retire'] },
      ],
    },
  },
};

function policyConfig(windowMs = WINDOW): Config {
  const config = suite.config({ EVIDENCE: 'on', GRAPH_READ_RATE_LIMIT: '1000/1s' });
  return {
    ...config,
    devicePolicy: POLICY,
    evidence: { ...config.evidence, verifyAfterMs: AFTER, verifyWindowMs: windowMs },
  };
}

async function ended(ctx: QueueContext, jobId: string, timeoutMs = 20_000): Promise<EvidenceRecord> {
  return waitFor(
    async () => {
      const r = await getEvidence(ctx.redis, ctx.prefix, jobId);
      return r && r.verification.state !== 'pending' ? r : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `verification of ${jobId} to end` },
  );
}

describe('verification of device actions', () => {
  it('proves every device × action of a mixed leaver under `dispose`, and exports one row each', async () => {
    const config = policyConfig();
    const ctx = suite.open(config);
    await suite.startWorker(config);
    const user = 'leaver-mixed-proof@contoso.test';
    const [id] = await enqueueUsers(ctx, [user]);
    const [outcome] = await waitForOutcomes(ctx, [id as string]);
    expect(outcome?.record?.outcome).toBe('completed');

    const record = await ended(ctx, id as string);
    expect(record.devicePlan?.map((p) => p.actions.map((a) => a.action))).toBeDefined();
    const byOs = new Map(record.devices.map((d) => [d.id, d.operatingSystem]));
    const checks = (record.verification.actions ?? []).map((a) => [byOs.get(a.deviceId), a.action, a.result]);
    expect(checks).toHaveLength(5);
    expect(checks).toEqual(
      expect.arrayContaining([
        ['iOS', 'retire', 'verified'],
        ['Windows', 'wipe', 'verified'],
        ['Windows', 'delete', 'verified'],
        ['Windows', 'autopilot-deregister', 'verified'],
        ['Android', 'wipe', 'verified'],
      ]),
    );
    expect(record.verification.state).toBe('verified');
    expect(record.verification.devices.map((d) => d.result)).toEqual(['retired', 'retired', 'retired']);
    // The iPhone's proof is its action log (still readable by id); the laptop's is the 404.
    const iphone = record.verification.actions?.find((a) => byOs.get(a.deviceId) === 'iOS');
    expect(iphone?.actionState).toBe('done');
    const laptopWipe = record.verification.actions?.find(
      (a) => byOs.get(a.deviceId) === 'Windows' && a.action === 'wipe',
    );
    expect(laptopWipe?.stateAfter).toBeNull();

    const audit = await readAudit(ctx, { count: 1000 });
    const verified = audit.find((e) => e.type === 'verified' && e.jobId === id);
    expect(verified?.details).toMatchObject({
      actions: { verified: 5, pending: 0, failed: 0, notVerified: 0 },
    });

    expect(exportShowsActions(config)).toBe(true);
    const rows = [];
    for await (const row of exportRows(
      ctx.redis,
      ctx.prefix,
      { fromMs: Date.now() - 60_000, toMs: Date.now() + 1000 },
      undefined,
      { actions: true },
    )) {
      rows.push(row);
    }
    expect(Object.keys(rows[0] ?? {})).toEqual([...exportColumns(true)]);
    expect(rows.map((r) => [r.operatingSystem, r.action, r.actionState, r.actionVerification])).toEqual(
      expect.arrayContaining([
        ['iOS', 'retire', 'done', 'verified'],
        ['Windows', 'wipe', 'done', 'verified'],
        ['Windows', 'delete', 'done', 'verified'],
        ['Windows', 'autopilot-deregister', 'done', 'verified'],
        ['Android', 'wipe', 'done', 'verified'],
      ]),
    );
    expect(rows).toHaveLength(5);
    // The laptop's rows follow its plan: wipe, then delete, then the deregistration.
    expect(rows.filter((r) => r.operatingSystem === 'Windows').map((r) => r.action)).toEqual([
      'wipe',
      'delete',
      'autopilot-deregister',
    ]);
  });

  it('ends not_verified when a device never checks in, the other actions still verified', async () => {
    const config = policyConfig(1500);
    const ctx = suite.open(config);
    await suite.startWorker(config);
    const user = 'leaver-mixed-late@contoso.test';
    const iphone = suite.sim.devices(user).devices.find((d) => d.operatingSystem === 'iOS');
    expect(iphone).toBeDefined();
    suite.sim.control({ deviceBehaviour: { [iphone?.id as string]: 'neverChecksIn' } });
    const [id] = await enqueueUsers(ctx, [user]);
    const [outcome] = await waitForOutcomes(ctx, [id as string]);
    expect(outcome?.record?.outcome).toBe('completed');
    const record = await ended(ctx, id as string);
    expect(record.verification.state).toBe('unverified');
    const results = new Map((record.verification.actions ?? []).map((a) => [`${a.deviceId}:${a.action}`, a]));
    const late = results.get(`${iphone?.id}:retire`);
    expect(late?.result).toBe('not_verified');
    expect(late?.stateAfter).toBe('retirePending');
    expect([...results.values()].filter((a) => a.result === 'verified')).toHaveLength(4);
  });
});
