// Plans under a device policy (issue 21 item 3): the import's plan (what `offboard import --plan`
// and the console Check run) reads each new leaver's devices from the Graph simulator over real
// HTTP, through the read pacer, and shows each device with its rule and actions. The profile comes
// from the CSV's devicePolicy column, else the command's (--device-policy), else the default; a
// row naming an unknown profile is invalid. Nothing is enqueued. Schedules check their profile.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaverPlanLines } from '../../src/device-policy/describe.js';
import { graphDevicePlans } from '../../src/device-policy/leaver-plans.js';
import { importCsv } from '../../src/import/csv.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { validateSchedule } from '../../src/schedule/definition.js';
import { TEST_POLICY } from '../helpers/device-policy.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import { workerConfig } from '../helpers/worker.js';

let redis: TestRedis;
let sim: TestSimulator;
let ctx: QueueContext;

const laptop = {
  id: 'dev-laptop',
  deviceName: 'LAPTOP-7',
  operatingSystem: 'Windows',
  managedDeviceOwnerType: 'company',
  serialNumber: 'SN7',
};
const phone = {
  id: 'dev-phone',
  deviceName: 'Pat iPhone',
  operatingSystem: 'iOS',
  managedDeviceOwnerType: 'personal',
};

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator();
  sim.control({
    devices: {
      'pat@contoso.com': [laptop, phone],
      'sam@contoso.com': [{ ...laptop, id: 'dev-laptop-2', deviceName: 'LAPTOP-9' }],
      'nobody@contoso.com': 0,
    },
  });
  const config = workerConfig(redis, sim, redis.prefix, { EVIDENCE: 'on' });
  config.devicePolicy = TEST_POLICY;
  ctx = createQueueContext(config);
});
afterAll(async () => {
  if (ctx) await closeQueueContext(ctx);
  await sim?.close();
  await redis?.stop();
});

async function plan(csv: string, devicePolicy?: string) {
  const reader = graphDevicePlans(ctx);
  try {
    return await importCsv(ctx, Readable.from([csv]), {
      meta: { requestedBy: 'ops-alice', source: 'import', ...(devicePolicy ? { devicePolicy } : {}) },
      plan: true,
      devicePlans: reader.read,
    });
  } finally {
    await reader.close();
  }
}

describe('a plan under a device policy', () => {
  it('shows each new leaver’s devices with rule and actions, reads only, enqueues nothing', async () => {
    const r = await plan(
      'user,devicePolicy\npat@contoso.com,dispose\nsam@contoso.com,\nnobody@contoso.com,\nx@contoso.com,shred\n',
    );
    expect(r).toMatchObject({ plan: true, accepted: 3, invalid: 1, devicePlansOmitted: 0 });
    expect(r.errors[0]?.error).toContain('known: standard, dispose');
    const byUser = Object.fromEntries((r.devicePlans ?? []).map((p) => [p.user, p]));
    expect(byUser['pat@contoso.com']?.profile).toBe('dispose');
    expect(
      byUser['pat@contoso.com']?.devices?.map((d) => [d.deviceName, d.rule, d.actions.map((a) => a.action)]),
    ).toEqual([
      ['LAPTOP-7', 1, ['wipe', 'delete', 'autopilot-deregister']],
      ['Pat iPhone', 2, ['retire']],
    ]);
    expect(byUser['sam@contoso.com']).toMatchObject({ profile: 'standard' });
    expect(leaverPlanLines(byUser['sam@contoso.com'] as never)).toEqual([
      'sam@contoso.com (device policy standard): 1 device(s)',
      '  LAPTOP-9 (Windows, company)  standard#2: wipe (keepEnrollmentData=false, keepUserData=false)',
    ]);
    expect(byUser['nobody@contoso.com']?.devices).toEqual([]);
    expect(await ctx.retire.count()).toBe(0);
    const planned = (await readAudit(ctx, { count: 10 })).find((e) => e.type === 'planned');
    expect(planned?.details).toMatchObject({ new: 3, devicesReadFor: 3 });
  });

  it('uses the command’s profile for rows naming none (the CLI’s --device-policy)', async () => {
    const r = await plan('user\nsam@contoso.com\n', 'dispose');
    expect(r.devicePlans?.[0]).toMatchObject({ user: 'sam@contoso.com', profile: 'dispose' });
    expect(r.devicePlans?.[0]?.devices?.[0]?.actions.map((a) => a.action)).toEqual([
      'wipe',
      'delete',
      'autopilot-deregister',
    ]);
  });

  it('says when a leaver’s devices could not be read, and goes on with the others', async () => {
    sim.control({ readScript: { 'pat@contoso.com': [403] } });
    const r = await plan('user\npat@contoso.com\nsam@contoso.com\n');
    const [pat, sam] = r.devicePlans ?? [];
    expect(pat?.devices).toBeUndefined();
    expect(pat?.error).toContain('HTTP 403');
    expect(sam?.devices?.length).toBe(1);
  });

  it('reads nothing without a policy (the plan of today)', async () => {
    const policy = ctx.config.devicePolicy;
    ctx.config.devicePolicy = undefined;
    try {
      const r = await plan('user\npat@contoso.com\n');
      expect(r.devicePlans).toBeUndefined();
      expect(r.accepted).toBe(1);
    } finally {
      ctx.config.devicePolicy = policy;
    }
  });
});

describe('a schedule’s devicePolicy', () => {
  const base = {
    name: 'nightly',
    cron: '0 2 * * *',
    source: { type: 'http', url: 'https://hr.example.com/x' },
  };
  it('must be a profile of the loaded policy, and needs a policy at all', () => {
    expect(
      validateSchedule({ ...base, devicePolicy: 'dispose' }, { devicePolicy: TEST_POLICY }),
    ).toMatchObject({
      devicePolicy: 'dispose',
    });
    expect(() => validateSchedule({ ...base, devicePolicy: 'shred' }, { devicePolicy: TEST_POLICY })).toThrow(
      /devicePolicy: "shred" is not a profile.*known: standard, dispose/,
    );
    expect(() => validateSchedule({ ...base, devicePolicy: 'dispose' })).toThrow(
      /no device policy configured/,
    );
    expect(validateSchedule(base)).not.toHaveProperty('devicePolicy');
  });
});
