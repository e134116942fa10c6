// A device policy applied to an inventory: per device, the profile's first matching rule and its
// actions in order. Pure: the worker, dry runs, plans and `offboard policy explain` all call it.
import type { DeviceActionStep, DevicePlan, ManagedDevice } from '../interfaces.js';
import type { DevicePolicy, MatchValue, PolicyMatch, PolicyRule } from './types.js';

/** A device no rule matched: load-time lint requires a catch-all, so only a hand-made policy gets here. */
export class NoMatchingRuleError extends Error {
  override readonly name = 'NoMatchingRuleError';
}

export class UnknownProfileError extends Error {
  override readonly name = 'UnknownProfileError';
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

function fits(want: MatchValue<string> | undefined, have: string | null | undefined): boolean {
  if (want === undefined) return true;
  const list = Array.isArray(want) ? want : [want];
  return list.some((w) => lower(w) === lower(have ?? 'unknown'));
}

/** Whether a rule's match fits a device (every key given must fit; `{}` fits all). */
export function matches(match: PolicyMatch, d: ManagedDevice): boolean {
  if (!fits(match.ownerType, d.managedDeviceOwnerType)) return false;
  if (!fits(match.os, d.operatingSystem)) return false;
  if (!fits(match.enrollmentType, d.deviceEnrollmentType)) return false;
  if (!fits(match.model, d.model)) return false;
  if (!fits(match.manufacturer, d.manufacturer)) return false;
  if (match.supervised !== undefined && match.supervised !== (d.isSupervised === true)) return false;
  return true;
}

function steps(rule: PolicyRule): DeviceActionStep[] {
  const out: DeviceActionStep[] = [];
  for (const action of rule.actions) {
    if (action === 'none') continue;
    const step: DeviceActionStep = { action };
    if (action === 'wipe') {
      // The macOS unlock code is a secret: the plan (kept in job progress and evidence) carries only
      // that one is set; the executor reads it from the loaded policy at send time (wipeOptionsFor).
      const { macOsUnlockCode, ...rest } = rule.wipe ?? {};
      step.wipe = macOsUnlockCode === undefined ? rest : { ...rest, macOsUnlockCode: UNLOCK_CODE_SET };
      if (rule.captureActivationLockBypass) step.captureActivationLockBypass = true;
    }
    out.push(step);
  }
  return out;
}

/** Stands in a plan for a rule's macOS unlock code (never stored with the plan). */
export const UNLOCK_CODE_SET = '(set in the policy)';

/** The wipe parameters to send for a planned step: the unlock code put back from the policy itself. */
export function wipeOptionsFor(
  policy: DevicePolicy | undefined,
  device: Pick<DevicePlan, 'profile' | 'rule'>,
  step: DeviceActionStep,
): DeviceActionStep['wipe'] {
  if (step.wipe?.macOsUnlockCode !== UNLOCK_CODE_SET) return step.wipe;
  const code = policy?.profiles[device.profile]?.rules[device.rule - 1]?.wipe?.macOsUnlockCode;
  const { macOsUnlockCode: _marker, ...rest } = step.wipe;
  return code === undefined ? rest : { ...rest, macOsUnlockCode: code };
}

/** The profile a request gets: the one it names, else the policy's default. */
export function profileName(policy: DevicePolicy, requested?: string): string {
  const name = requested ?? policy.default;
  if (!Object.hasOwn(policy.profiles, name)) {
    throw new UnknownProfileError(
      `device policy profile "${name}" is not in ${policy.source ?? 'the policy'}`,
    );
  }
  return name;
}

/** Every device's plan under one profile, in inventory order. */
export function planDevices(
  policy: DevicePolicy,
  profile: string | undefined,
  devices: readonly ManagedDevice[],
): DevicePlan[] {
  const name = profileName(policy, profile);
  const rules = policy.profiles[name]?.rules ?? [];
  return devices.map((d) => {
    const index = rules.findIndex((r) => matches(r.match, d));
    const rule = rules[index];
    if (!rule) {
      throw new NoMatchingRuleError(`device ${d.id} matches no rule of profile "${name}"`);
    }
    return {
      deviceId: d.id,
      deviceName: d.deviceName ?? null,
      operatingSystem: d.operatingSystem ?? null,
      serialNumber: d.serialNumber ?? null,
      managedDeviceOwnerType: d.managedDeviceOwnerType ?? null,
      profile: name,
      rule: index + 1,
      actions: steps(rule),
    };
  });
}
