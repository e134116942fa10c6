// What a well-formed policy's rules mean together, checked before any device is touched: the action
// order Intune documents, wipes on personal devices, wipes and retires a platform does not support,
// and a catch-all so every device gets a decision (planDevices never throws on a loaded policy).
// A rule "can match" a kind of device unless one of its match keys rules that kind out; an absent key
// matches anything, so the checks err on the side of refusing.
import type { DevicePolicy, PolicyMatch, PolicyRule } from './types.js';

const APPLE_MOBILE = ['ios', 'ipados'];
const USER_ENROLLMENT = ['appleuserenrollment', 'appleuserenrollmentwithserviceaccount'];

/** The match key's values in lower case; undefined when the key is absent (any value). */
function values(m: PolicyMatch, key: Exclude<keyof PolicyMatch, 'supervised'>): string[] | undefined {
  const v = m[key];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).map((s) => s.toLowerCase());
}

/** The key is absent or lists one of `wanted`. */
function mayBe(m: PolicyMatch, key: Exclude<keyof PolicyMatch, 'supervised'>, wanted: string[]): boolean {
  const have = values(m, key);
  return have === undefined || have.some((v) => wanted.includes(v));
}

/** The key is present and lists only values of `set`. */
function onlyOf(m: PolicyMatch, key: Exclude<keyof PolicyMatch, 'supervised'>, set: string[]): boolean {
  const have = values(m, key);
  return have !== undefined && have.every((v) => set.includes(v));
}

/** ownerType absent, or lists personal or unknown (an unknown owner may be a person). */
export function canMatchPersonal(m: PolicyMatch): boolean {
  return mayBe(m, 'ownerType', ['personal', 'unknown']);
}

/** Android personally-owned work profile: Intune supports retire only. Android is never supervised. */
function canMatchAndroidPersonal(m: PolicyMatch): boolean {
  const enrolledOtherwise = (values(m, 'enrollmentType') ?? ['?']).every(
    (e) => e.startsWith('windows') || e.startsWith('apple'),
  );
  return canMatchPersonal(m) && mayBe(m, 'os', ['android']) && m.supervised !== true && !enrolledOtherwise;
}

/** iOS/iPadOS User Enrollment: retire only. Such devices are personal and never supervised. */
function canMatchUserEnrollment(m: PolicyMatch): boolean {
  if (values(m, 'enrollmentType') !== undefined) return mayBe(m, 'enrollmentType', USER_ENROLLMENT);
  return canMatchPersonal(m) && mayBe(m, 'os', APPLE_MOBILE) && m.supervised !== true;
}

/** Specifically Android company-owned (dedicated, fully managed, corporate work profile): wipe only. */
function isAndroidCompany(m: PolicyMatch): boolean {
  return onlyOf(m, 'os', ['android']) && onlyOf(m, 'ownerType', ['company']);
}

const isCatchAll = (r: PolicyRule) => Object.keys(r.match).length === 0;

/** Every problem of one rule, as messages after its path. */
function ruleProblems(r: PolicyRule): [key: string, message: string][] {
  const out: [string, string][] = [];
  const a = r.actions;
  const at = (action: string) => a.indexOf(action as (typeof a)[number]);
  const wipes = at('wipe') >= 0;
  if (at('none') >= 0 && a.length > 1) out.push(['actions', '`none` leaves the device alone: list it alone']);
  if (wipes && at('retire') >= 0) out.push(['actions', 'wipe and retire both remove management: choose one']);
  const del = at('delete');
  for (const first of ['wipe', 'retire']) {
    if (del >= 0 && at(first) > del)
      out.push([
        'actions',
        `delete before ${first}: delete removes the Intune record, so ${first} must come before it`,
      ]);
  }
  const dereg = at('autopilot-deregister');
  if (dereg >= 0 && (del < 0 || del > dereg))
    out.push([
      'actions',
      'autopilot-deregister needs delete before it in the same list (Intune: delete the device, then deregister it; only for devices leaving the organisation)',
    ]);
  if (r.wipe && !wipes) out.push(['wipe', 'wipe options without the wipe action']);
  if (r.captureActivationLockBypass && !wipes)
    out.push(['captureActivationLockBypass', 'only with the wipe action (the code is read before a wipe)']);
  if (r.allowPersonalWipe && !wipes) out.push(['allowPersonalWipe', 'only with the wipe action']);
  if (!wipes) {
    if (at('retire') >= 0 && isAndroidCompany(r.match))
      out.push([
        'actions',
        'Intune does not support retire on Android company-owned devices (dedicated, fully managed, corporate work profile); wipe only',
      ]);
    return out;
  }
  if (canMatchAndroidPersonal(r.match))
    out.push([
      'actions',
      'Intune does not support wipe on Android personally-owned work profile devices; retire only (narrow the match, e.g. ownerType: company or an os other than Android)',
    ]);
  if (canMatchUserEnrollment(r.match))
    out.push([
      'actions',
      'Intune does not support wipe on iOS/iPadOS User Enrollment devices; retire only (narrow the match, e.g. ownerType: company or supervised: true)',
    ]);
  if (canMatchPersonal(r.match) && !r.allowPersonalWipe)
    out.push([
      'actions',
      'wipe on a rule that can match a personal device (ownerType absent, personal or unknown): add allowPersonalWipe: true, or match ownerType: company',
    ]);
  return out;
}

/** Every problem of a shape-valid policy, path first (`profiles.standard.rules[2].actions: …`). */
export function lintPolicy(policy: DevicePolicy): string[] {
  const issues: string[] = [];
  for (const [name, profile] of Object.entries(policy.profiles)) {
    const path = `profiles.${name}.rules`;
    profile.rules.forEach((r, i) => {
      for (const [key, message] of ruleProblems(r)) issues.push(`${path}[${i + 1}].${key}: ${message}`);
    });
    const catchAll = profile.rules.findIndex(isCatchAll);
    if (catchAll < 0) {
      issues.push(
        `${path}: the last rule must match every device (\`match: {}\`), so every device gets a decision (use actions: [none] to leave the rest alone)`,
      );
    }
    for (let j = catchAll + 1; catchAll >= 0 && j < profile.rules.length; j++) {
      issues.push(`${path}[${j + 1}]: never reached: rule ${catchAll + 1} matches every device`);
    }
  }
  return issues;
}
