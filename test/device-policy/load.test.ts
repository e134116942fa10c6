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

describe('device policy files with problems', () => {
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
