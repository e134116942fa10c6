// Every refusal of a device policy, one case each: the key or rule that is wrong, named by its path
// (`profiles.p.rules[1].actions: …`), and no policy returned. The orderings and platform limits Intune
// documents are refused here, at load, so a run never meets them.
import { describe, expect, it } from 'vitest';
import { policyFromValue } from '../../src/device-policy/load.js';

const issuesOf = (value: unknown) => policyFromValue(value).issues;
/** A one-profile policy whose rules are `rules` then a catch-all retire. */
const withRules = (...rules: unknown[]) => ({
  default: 'p',
  profiles: { p: { rules: [...rules, { match: {}, actions: ['retire'] }] } },
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
});
