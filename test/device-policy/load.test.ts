// The device policy file as an operator writes it: YAML or JSON, every problem reported at once with
// its path, the orderings and platform limits Intune documents refused at load (not at run time), and
// the shipped example loading. Real files in a temp directory, read through the real loader.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DevicePolicyError } from '../../src/device-policy/errors.js';
import { loadDevicePolicy, policyFromValue, readDevicePolicy } from '../../src/device-policy/load.js';
import { planDevices } from '../../src/device-policy/plan.js';
import { ENROLLMENT_TYPES, OWNER_TYPES } from '../../src/device-policy/shape.js';
import { enumMembers } from '../../src/graph/contract/load.js';
import type { ManagedDevice } from '../../src/interfaces.js';

const dir = mkdtempSync(join(tmpdir(), 'offboard-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string, ext = 'yaml'): string {
  n += 1;
  const path = join(dir, `p${n}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** The issues of a policy object (through the same checks as a file). */
const issuesOf = (value: unknown) => policyFromValue(value).issues;
/** A one-profile policy whose rules are `rules` then a catch-all retire. */
const withRules = (...rules: unknown[]) => ({
  default: 'p',
  profiles: { p: { rules: [...rules, { match: {}, actions: ['retire'] }] } },
});

const ISSUE_EXAMPLE = `default: standard            # the profile used when a request names none
profiles:
  standard:
    rules:                   # first match wins; every device must match some rule
      - match: { ownerType: personal }             # managedDeviceOwnerType: company|personal|unknown
        actions: [retire]
      - match: { ownerType: company, os: Windows }  # operatingSystem, case-insensitive
        actions: [wipe]
        wipe: { keepEnrollmentData: false, keepUserData: false }
      - match: { ownerType: company, os: [iOS, iPadOS, macOS], supervised: true }
        actions: [wipe]
        captureActivationLockBypass: true
      - match: {}
        actions: [retire]
  dispose:                   # laptops leaving the company for good
    rules:
      - match: { ownerType: company, os: Windows }
        actions: [wipe, delete, autopilot-deregister]
      - match: {}
        actions: [retire]
`;

const iphone: ManagedDevice = {
  id: 'd-iphone',
  deviceName: "Ada's iPhone",
  operatingSystem: 'iOS',
  managedDeviceOwnerType: 'personal',
  deviceEnrollmentType: 'appleUserEnrollment',
  isSupervised: false,
};
const laptop: ManagedDevice = {
  id: 'd-laptop',
  deviceName: 'DESKTOP-1',
  operatingSystem: 'Windows',
  managedDeviceOwnerType: 'company',
  deviceEnrollmentType: 'windowsAzureADJoin',
  isSupervised: false,
};
const android: ManagedDevice = {
  id: 'd-android',
  deviceName: 'Pixel 8',
  operatingSystem: 'Android',
  managedDeviceOwnerType: 'company',
  isSupervised: false,
};

describe('device policy files that load', () => {
  it("loads the issue's example file as written", () => {
    const path = file(ISSUE_EXAMPLE);
    const policy = loadDevicePolicy(path);
    expect(policy.default).toBe('standard');
    expect(policy.source).toBe(path);
    expect(Object.keys(policy.profiles)).toEqual(['standard', 'dispose']);
    expect(policy.profiles.standard?.rules[1]).toEqual({
      match: { ownerType: 'company', os: 'Windows' },
      actions: ['wipe'],
      wipe: { keepEnrollmentData: false, keepUserData: false },
    });
    expect(policy.profiles.dispose?.rules[0]?.actions).toEqual(['wipe', 'delete', 'autopilot-deregister']);
  });

  it('loads deploy/device-policy.example.yaml, which plans the three devices of a mixed leaver', () => {
    const policy = loadDevicePolicy(resolve('deploy/device-policy.example.yaml'));
    const standard = planDevices(policy, undefined, [iphone, laptop, android]);
    expect(standard.map((p) => [p.deviceId, p.profile, p.rule, p.actions.map((s) => s.action)])).toEqual([
      ['d-iphone', 'standard', 1, ['retire']],
      ['d-laptop', 'standard', 2, ['wipe']],
      ['d-android', 'standard', 4, ['wipe']],
    ]);
    expect(standard[1]?.actions[0]?.wipe).toEqual({ keepEnrollmentData: false, keepUserData: false });
    const dispose = planDevices(policy, 'dispose', [iphone, laptop, android]);
    expect(dispose.map((p) => p.actions.map((s) => s.action))).toEqual([
      ['retire'],
      ['wipe', 'delete', 'autopilot-deregister'],
      ['wipe'],
    ]);
  });

  it('reads JSON when the name ends in .json', () => {
    const policy = loadDevicePolicy(
      file(
        JSON.stringify({ default: 'a', profiles: { a: { rules: [{ match: {}, actions: ['none'] }] } } }),
        'json',
      ),
    );
    expect(policy.profiles.a?.rules[0]?.actions).toEqual(['none']);
  });

  it('takes match values as one value or a list, in any case for the enumerations', () => {
    expect(
      issuesOf(
        withRules(
          {
            match: { ownerType: ['Company', 'unknown'], os: 'windows', model: ['A', 'B'] },
            actions: ['retire'],
          },
          { match: { enrollmentType: 'WindowsAzureADJoin', supervised: false }, actions: ['none'] },
        ),
      ),
    ).toEqual([]);
  });

  it('allows a wipe on personal devices only with allowPersonalWipe, and only where the platform supports it', () => {
    const personalWindows = { match: { ownerType: 'personal', os: 'Windows' }, actions: ['wipe'] };
    expect(issuesOf(withRules(personalWindows))).toEqual([
      expect.stringMatching(
        /^profiles\.p\.rules\[1\]\.actions: wipe on a rule that can match a personal device/,
      ),
    ]);
    expect(issuesOf(withRules({ ...personalWindows, allowPersonalWipe: true }))).toEqual([]);
    // ownerType absent can match a personal device too.
    expect(issuesOf(withRules({ match: { os: 'Windows' }, actions: ['wipe'] }))[0]).toMatch(
      /allowPersonalWipe/,
    );
  });

  it('keeps the enumerations in step with the v1.0 contract', () => {
    const members = (t: string) => (enumMembers(t) ?? []).filter((m) => m !== 'unknownFutureValue');
    expect([...OWNER_TYPES].sort()).toEqual(members('managedDeviceOwnerType').sort());
    expect([...ENROLLMENT_TYPES].sort()).toEqual(members('deviceEnrollmentType').sort());
  });
});

describe('device policy refusals', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an unknown top-level key', { ...withRules(), defaults: 'x' }, /^defaults: unknown key/],
    [
      'an unknown profile key',
      { default: 'p', profiles: { p: { rules: [{ match: {}, actions: ['retire'] }], x: 1 } } },
      /^profiles\.p\.x: unknown key/,
    ],
    [
      'an unknown rule key',
      withRules({ match: {}, actions: ['retire'], note: 'x' }),
      /^profiles\.p\.rules\[1\]\.note: unknown key/,
    ],
    [
      'an unknown match key',
      withRules({ match: { ownerType: 'company', colour: 'red' }, actions: ['retire'] }),
      /^profiles\.p\.rules\[1\]\.match\.colour: unknown key/,
    ],
    [
      'an unknown wipe option',
      withRules({
        match: { ownerType: 'company' },
        actions: ['wipe'],
        wipe: { keepUserData: true, factoryReset: true },
      }),
      /^profiles\.p\.rules\[1\]\.wipe\.factoryReset: unknown key \(expected one of keepEnrollmentData, keepUserData, macOsUnlockCode, persistEsimDataPlan\)/,
    ],
    [
      'a wipe option of the wrong type',
      withRules({ match: { ownerType: 'company' }, actions: ['wipe'], wipe: { keepUserData: 'yes' } }),
      /^profiles\.p\.rules\[1\]\.wipe\.keepUserData: must be true or false/,
    ],
    [
      'a macOS unlock code that is not text',
      withRules({ match: { ownerType: 'company' }, actions: ['wipe'], wipe: { macOsUnlockCode: 123456 } }),
      /wipe\.macOsUnlockCode: must be a text value/,
    ],
    ['no default', { profiles: withRules().profiles }, /^default: required/],
    [
      'a default naming no profile',
      { ...withRules(), default: 'other' },
      /^default: "other" is not a profile \(profiles: p\)/,
    ],
    ['no profiles', { default: 'p', profiles: {} }, /^profiles: must be a mapping/],
    [
      'a profile name that is not a slug',
      { default: 'P', profiles: { P: withRules().profiles.p } },
      /^profiles\.P: a profile name is 1-63/,
    ],
    [
      'no rules',
      { default: 'p', profiles: { p: { rules: [] } } },
      /^profiles\.p\.rules: must be a non-empty list/,
    ],
    [
      'a rule without actions',
      withRules({ match: { os: 'iOS' } }),
      /^profiles\.p\.rules\[1\]\.actions: required/,
    ],
    ['a rule without match', withRules({ actions: ['retire'] }), /^profiles\.p\.rules\[1\]\.match: required/],
    [
      'an unknown action',
      withRules({ match: { os: 'iOS' }, actions: ['retire', 'reset'] }),
      /^profiles\.p\.rules\[1\]\.actions\[2\]: "reset" is not an action/,
    ],
    [
      'an action listed twice',
      withRules({ match: { os: 'iOS' }, actions: ['retire', 'retire'] }),
      /actions\[2\]: "retire" is listed twice/,
    ],
    [
      'none with another action',
      withRules({ match: { os: 'iOS' }, actions: ['none', 'retire'] }),
      /actions: `none` leaves the device alone: list it alone/,
    ],
    [
      'wipe and retire together',
      withRules({ match: { ownerType: 'company', os: 'Windows' }, actions: ['retire', 'wipe'] }),
      /actions: wipe and retire both remove management/,
    ],
    [
      'delete before wipe',
      withRules({ match: { ownerType: 'company', os: 'Windows' }, actions: ['delete', 'wipe'] }),
      /actions: delete before wipe: delete removes the Intune record/,
    ],
    [
      'delete before retire',
      withRules({ match: { ownerType: 'company', os: 'Windows' }, actions: ['delete', 'retire'] }),
      /actions: delete before retire/,
    ],
    [
      'autopilot-deregister without delete',
      withRules({
        match: { ownerType: 'company', os: 'Windows' },
        actions: ['wipe', 'autopilot-deregister'],
      }),
      /actions: autopilot-deregister needs delete before it/,
    ],
    [
      'autopilot-deregister before delete',
      withRules({
        match: { ownerType: 'company', os: 'Windows' },
        actions: ['wipe', 'autopilot-deregister', 'delete'],
      }),
      /actions: autopilot-deregister needs delete before it/,
    ],
    [
      'wipe options without wipe',
      withRules({ match: { os: 'iOS' }, actions: ['retire'], wipe: { keepUserData: true } }),
      /\.wipe: wipe options without the wipe action/,
    ],
    [
      'captureActivationLockBypass without wipe',
      withRules({ match: { os: 'iOS' }, actions: ['retire'], captureActivationLockBypass: true }),
      /captureActivationLockBypass: only with the wipe action/,
    ],
    [
      'a wipe on a rule that can match personal devices',
      withRules({ match: { os: 'Windows' }, actions: ['wipe'] }),
      /add allowPersonalWipe: true/,
    ],
    [
      'an Android personal wipe, even with allowPersonalWipe',
      withRules({
        match: { ownerType: 'personal', os: 'Android' },
        actions: ['wipe'],
        allowPersonalWipe: true,
      }),
      /Intune does not support wipe on Android personally-owned work profile devices; retire only/,
    ],
    [
      'an iOS User Enrollment wipe, even with allowPersonalWipe',
      withRules({ match: { ownerType: 'personal', os: 'iOS' }, actions: ['wipe'], allowPersonalWipe: true }),
      /Intune does not support wipe on iOS\/iPadOS User Enrollment devices; retire only/,
    ],
    [
      'a wipe naming User Enrollment',
      withRules({
        match: { ownerType: 'company', enrollmentType: 'appleUserEnrollmentWithServiceAccount' },
        actions: ['wipe'],
      }),
      /User Enrollment devices; retire only/,
    ],
    [
      'a retire on Android company-owned devices',
      withRules({ match: { ownerType: 'company', os: 'Android' }, actions: ['retire'] }),
      /Intune does not support retire on Android company-owned devices .*; wipe only/,
    ],
    [
      'a match value of the wrong type',
      withRules({ match: { os: 7 }, actions: ['retire'] }),
      /match\.os: must be a text value or a list of them \(got number\)/,
    ],
    [
      'an empty match list',
      withRules({ match: { os: [] }, actions: ['retire'] }),
      /match\.os: must not be an empty list/,
    ],
    [
      'an owner type Graph does not have',
      withRules({ match: { ownerType: 'corporate' }, actions: ['retire'] }),
      /match\.ownerType: "corporate" is not one of unknown, company, personal/,
    ],
    [
      'an enrollment type Graph does not have',
      withRules({ match: { enrollmentType: 'androidEnterpriseFullyManaged' }, actions: ['retire'] }),
      /match\.enrollmentType: "androidEnterpriseFullyManaged" is not one of/,
    ],
    [
      'supervised that is not a boolean',
      withRules({ match: { supervised: 'yes' }, actions: ['retire'] }),
      /match\.supervised: must be true or false/,
    ],
    [
      'a profile without a catch-all',
      { default: 'p', profiles: { p: { rules: [{ match: { os: 'iOS' }, actions: ['retire'] }] } } },
      /^profiles\.p\.rules: the last rule must match every device/,
    ],
    [
      'a rule after the catch-all',
      {
        default: 'p',
        profiles: {
          p: {
            rules: [
              { match: {}, actions: ['retire'] },
              { match: { os: 'iOS' }, actions: ['retire'] },
            ],
          },
        },
      },
      /^profiles\.p\.rules\[2\]: never reached: rule 1 matches every device/,
    ],
    ['a document that is not a mapping', ['retire'], /must be a mapping of default, profiles/],
  ];
  for (const [what, value, message] of cases) {
    it(`refuses ${what}`, () => {
      const issues = issuesOf(value);
      expect(
        issues.some((i) => message.test(i)),
        JSON.stringify(issues),
      ).toBe(true);
      expect(policyFromValue(value).policy).toBeUndefined();
    });
  }

  it('reports every problem of a file at once, shape and meaning together', () => {
    const path = file(`default: nope
profiles:
  standard:
    rules:
      - match: { ownerType: personel, colour: red }
        actions: [retire]
      - match: { os: Android }
        actions: [wipe]
        allowPersonalWipe: true
      - match: { os: Android, ownerType: company }
        actions: [retire]
      - match: {}
        actions: [autopilot-deregister]
        wipe: { keepUserData: "yes" }
`);
    const { policy, issues } = readDevicePolicy(path);
    expect(policy).toBeUndefined();
    expect(issues).toEqual([
      expect.stringMatching(/^profiles\.standard\.rules\[1\]\.match\.colour: unknown key/),
      expect.stringMatching(/^profiles\.standard\.rules\[1\]\.match\.ownerType: "personel"/),
      expect.stringMatching(/^profiles\.standard\.rules\[4\]\.wipe\.keepUserData: must be true or false/),
      expect.stringMatching(/^default: "nope" is not a profile/),
      expect.stringMatching(
        /^profiles\.standard\.rules\[2\]\.actions: Intune does not support wipe on Android/,
      ),
      expect.stringMatching(
        /^profiles\.standard\.rules\[3\]\.actions: Intune does not support retire on Android/,
      ),
      expect.stringMatching(/^profiles\.standard\.rules\[4\]\.actions: autopilot-deregister needs delete/),
    ]);
    expect(() => loadDevicePolicy(path)).toThrow(DevicePolicyError);
    try {
      loadDevicePolicy(path);
    } catch (err) {
      expect((err as DevicePolicyError).issues).toEqual(issues);
      expect((err as DevicePolicyError).exitCode).toBe(2);
    }
  });

  it('refuses YAML with a key given twice, broken syntax, bad JSON and a missing file', () => {
    expect(readDevicePolicy(file('default: a\ndefault: b\nprofiles: {}\n')).issues[0]).toMatch(
      /^not valid YAML: Map keys must be unique/,
    );
    expect(readDevicePolicy(file('profiles: [\n')).issues[0]).toMatch(/^not valid YAML/);
    expect(readDevicePolicy(file('{"default": ', 'json')).issues[0]).toMatch(/^not valid JSON/);
    expect(readDevicePolicy(join(dir, 'missing.yaml')).issues).toEqual(['cannot read the file (ENOENT)']);
  });
});
