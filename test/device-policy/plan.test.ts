// planDevices: the first matching rule decides a device's actions, matches compare case-insensitively,
// a list matches any of its values, `supervised` compares the boolean, `none` plans nothing.
import { describe, expect, it } from 'vitest';
import { policyFromValue } from '../../src/device-policy/load.js';
import {
  NoMatchingRuleError,
  planDevices,
  profileName,
  UNLOCK_CODE_SET,
  UnknownProfileError,
  wipeOptionsFor,
} from '../../src/device-policy/plan.js';
import type { DevicePolicy } from '../../src/device-policy/types.js';
import type { ManagedDevice } from '../../src/interfaces.js';

function policy(value: unknown): DevicePolicy {
  const { policy: p, issues } = policyFromValue(value);
  if (!p) throw new Error(issues.join('\n'));
  return p;
}

const dev = (id: string, d: Partial<ManagedDevice>): ManagedDevice => ({ id, ...d });

const P = policy({
  default: 'standard',
  profiles: {
    standard: {
      rules: [
        { match: { ownerType: 'personal' }, actions: ['retire'] },
        {
          match: { ownerType: 'company', os: ['iOS', 'iPadOS'], supervised: true },
          actions: ['wipe'],
          captureActivationLockBypass: true,
        },
        {
          match: { ownerType: 'company', os: 'windows' },
          actions: ['wipe', 'delete'],
          wipe: { keepEnrollmentData: true },
        },
        { match: { manufacturer: ['Zebra', 'Honeywell'] }, actions: ['none'] },
        { match: {}, actions: ['retire'] },
      ],
    },
    keep: { rules: [{ match: {}, actions: ['none'] }] },
  },
});

describe('planDevices', () => {
  it('gives each device the first rule that matches, in inventory order', () => {
    const plans = planDevices(P, undefined, [
      dev('a', { operatingSystem: 'Windows', managedDeviceOwnerType: 'personal' }),
      dev('b', { operatingSystem: 'Windows', managedDeviceOwnerType: 'company', deviceName: 'LAPTOP' }),
      dev('c', { operatingSystem: 'Linux', managedDeviceOwnerType: 'company' }),
    ]);
    expect(plans.map((p) => [p.deviceId, p.profile, p.rule])).toEqual([
      ['a', 'standard', 1],
      ['b', 'standard', 3],
      ['c', 'standard', 5],
    ]);
    expect(plans[1]).toMatchObject({
      deviceName: 'LAPTOP',
      actions: [{ action: 'wipe', wipe: { keepEnrollmentData: true } }, { action: 'delete' }],
    });
  });

  it('compares operating systems and owner types case-insensitively', () => {
    const [p] = planDevices(P, undefined, [
      dev('x', { operatingSystem: 'WINDOWS', managedDeviceOwnerType: 'Company' }),
    ]);
    expect(p?.rule).toBe(3);
  });

  it('matches any value of a list, and supervised only as the boolean', () => {
    const plans = planDevices(P, undefined, [
      dev('ipad', { operatingSystem: 'iPadOS', managedDeviceOwnerType: 'company', isSupervised: true }),
      dev('iphone', { operatingSystem: 'iOS', managedDeviceOwnerType: 'company', isSupervised: false }),
      dev('unsure', { operatingSystem: 'iOS', managedDeviceOwnerType: 'company', isSupervised: null }),
      dev('scanner', { operatingSystem: 'Android', manufacturer: 'zebra' }),
    ]);
    expect(plans.map((p) => p.rule)).toEqual([2, 5, 5, 4]);
    expect(plans[0]?.actions).toEqual([{ action: 'wipe', wipe: {}, captureActivationLockBypass: true }]);
    // `none`: nothing to do for the device.
    expect(plans[3]?.actions).toEqual([]);
  });

  it('uses the named profile, else the default, and refuses a profile the policy does not have', () => {
    expect(planDevices(P, 'keep', [dev('a', {})])[0]).toMatchObject({
      profile: 'keep',
      rule: 1,
      actions: [],
    });
    expect(profileName(P)).toBe('standard');
    expect(() => planDevices(P, 'nope', [])).toThrow(UnknownProfileError);
  });

  it('throws NoMatchingRuleError only for a hand-made policy without a catch-all (the loader refuses those)', () => {
    const handMade: DevicePolicy = {
      default: 'p',
      profiles: { p: { rules: [{ match: { os: 'iOS' }, actions: ['retire'] }] } },
    };
    expect(() => planDevices(handMade, undefined, [dev('w', { operatingSystem: 'Windows' })])).toThrow(
      NoMatchingRuleError,
    );
    expect(policyFromValue(handMade).policy).toBeUndefined();
  });
});

describe('the macOS unlock code', () => {
  it('stays out of the plan (kept in job progress and evidence) and is put back only to send', () => {
    const p = policy({
      default: 'mac',
      profiles: {
        mac: {
          rules: [
            {
              match: { ownerType: 'company', os: 'macOS' },
              actions: ['wipe'],
              wipe: { keepUserData: false, macOsUnlockCode: '123456' },
            },
            { match: {}, actions: ['retire'] },
          ],
        },
      },
    });
    const [mac, other] = planDevices(p, undefined, [
      dev('m1', { managedDeviceOwnerType: 'company', operatingSystem: 'macOS' }),
      dev('w1', { managedDeviceOwnerType: 'personal', operatingSystem: 'Windows' }),
    ]);
    if (!mac || !other) throw new Error('two plans expected');
    expect(JSON.stringify(mac)).not.toContain('123456');
    expect(mac.actions[0]?.wipe).toEqual({ keepUserData: false, macOsUnlockCode: UNLOCK_CODE_SET });
    const step = mac.actions[0];
    if (!step) throw new Error('a wipe step expected');
    expect(wipeOptionsFor(p, mac, step)).toEqual({ keepUserData: false, macOsUnlockCode: '123456' });
    // A plan saved before the policy lost the code sends the wipe without it rather than the marker.
    expect(wipeOptionsFor(undefined, mac, step)).toEqual({ keepUserData: false });
  });
});
