// With DEVICE_POLICY_FILE, preflight requires the permissions of the actions the policy uses (issue
// 21's table): the device read for the inventory, PrivilegedOperations.All for retire and wipe,
// ReadWrite.All for delete, DeviceManagementServiceConfig.ReadWrite.All for Autopilot deregistration.
// Unit checks, then the real preflight against the simulator and a real Redis naming what is denied.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import type { DevicePolicy } from '../../src/device-policy/types.js';
import { devicePolicyPermissions, policyActions } from '../../src/preflight/device-permissions.js';
import { PERMISSION, requiredPermissions } from '../../src/preflight/permissions.js';
import { runPreflight } from '../../src/preflight/run.js';
import { createRedis } from '../../src/redis/connection.js';
import { PERMISSIONS } from '../../src/sim/tokens.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';

const STANDARD: DevicePolicy = {
  default: 'standard',
  profiles: {
    standard: {
      rules: [
        { match: { ownerType: 'personal' }, actions: ['retire'] },
        { match: { ownerType: 'company', os: 'Windows' }, actions: ['wipe'] },
        { match: {}, actions: ['none'] },
      ],
    },
  },
};
const DISPOSE: DevicePolicy = {
  default: 'standard',
  profiles: {
    ...STANDARD.profiles,
    dispose: {
      rules: [
        {
          match: { ownerType: 'company', os: 'Windows' },
          actions: ['wipe', 'delete', 'autopilot-deregister'],
        },
        { match: {}, actions: ['retire'] },
      ],
    },
  },
};

describe('the permissions a device policy needs', () => {
  it('collects the actions of every profile, and maps them to Microsoft’s permissions', () => {
    expect([...policyActions(STANDARD)].sort()).toEqual(['none', 'retire', 'wipe']);
    expect(devicePolicyPermissions(policyActions(STANDARD))).toEqual([
      PERMISSION.readDevices,
      PERMISSION.retire,
    ]);
    expect(devicePolicyPermissions(policyActions(DISPOSE))).toEqual([
      'DeviceManagementManagedDevices.Read.All',
      'DeviceManagementManagedDevices.PrivilegedOperations.All',
      'DeviceManagementManagedDevices.ReadWrite.All',
      'DeviceManagementServiceConfig.ReadWrite.All',
    ]);
  });

  it('adds them to the configuration’s list without repeats; without a policy the list is today’s', () => {
    const dispose = devicePolicyPermissions(policyActions(DISPOSE));
    expect(requiredPermissions({ evidence: true, entraSweep: false, devicePolicy: dispose })).toEqual([
      PERMISSION.retire,
      PERMISSION.readDevices,
      PERMISSION.deleteDevices,
      PERMISSION.autopilot,
    ]);
    expect(requiredPermissions({ evidence: false, entraSweep: false })).toEqual([PERMISSION.retire]);
  });
});

describe('preflight with a device policy, against the simulator', () => {
  let sim: TestSimulator;
  let redis: TestRedis;
  let client: ReturnType<typeof createRedis>;
  let base: Config;

  beforeAll(async () => {
    [sim, redis] = await Promise.all([startTestSimulator(), startRedis({ appendonly: true })]);
    base = testConfig({ ...sim.env(), REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, EVIDENCE: 'off' });
    client = createRedis(base.redis, { name: 'device-permissions-test' });
  });
  afterAll(async () => {
    client?.disconnect();
    await Promise.all([sim?.close(), redis?.stop()]);
  });
  beforeEach(() => {
    sim.control({ permissions: { grant: Object.values(PERMISSIONS) } });
  });

  const run = (devicePolicy?: DevicePolicy) =>
    runPreflight({
      config: { ...base, ...(devicePolicy ? { devicePolicy } : {}) },
      redis: client,
      queueConnection: client,
      prefix: base.redis.prefix,
      user: 'leaver-mixed-ann@contoso.test',
    });

  it('requires the Autopilot permission for a dispose profile and names it when the tenant lacks it', async () => {
    const ok = await run(DISPOSE);
    expect(ok.required).toEqual([
      PERMISSIONS.retire,
      PERMISSIONS.readDevices,
      PERMISSIONS.deleteDevices,
      PERMISSIONS.autopilot,
    ]);
    expect(ok.checks.find((c) => c.id === 'permissions')?.status).toBe('pass');

    sim.control({ permissions: { deny: [PERMISSIONS.autopilot] } });
    const denied = await run(DISPOSE);
    const check = denied.checks.find((c) => c.id === 'permissions');
    expect(check?.status).toBe('fail');
    expect(check?.detail).toContain(`lack ${PERMISSIONS.autopilot} (has: `);
    expect(check?.fix).toBe(
      `add the Microsoft Graph application permission(s) ${PERMISSIONS.autopilot} to the app registration and grant admin consent`,
    );
    // Without the policy file (EVIDENCE=off) only the retire is needed: today's behaviour.
    const none = await run();
    expect(none.required).toEqual([PERMISSIONS.retire]);
    expect(none.checks.find((c) => c.id === 'permissions')?.status).toBe('pass');
  });
});
