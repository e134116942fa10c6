// The shape of a device policy file (DEVICE_POLICY_FILE) once loaded and validated (load.ts):
// named profiles, each an ordered list of rules; the first rule whose match fits a device decides
// its actions. plan.ts applies it; nothing else reads a policy's rules.
import type { DeviceActionName, WipeOptions } from '../interfaces.js';

/** A match value: one value or a list (any of them); strings compare case-insensitively. */
export type MatchValue<T> = T | T[];

export interface PolicyMatch {
  /** `managedDeviceOwnerType`: company | personal | unknown. */
  ownerType?: MatchValue<string>;
  /** `operatingSystem` (Windows, iOS, iPadOS, macOS, Android, …). */
  os?: MatchValue<string>;
  /** `deviceEnrollmentType`. */
  enrollmentType?: MatchValue<string>;
  /** `isSupervised`. */
  supervised?: boolean;
  model?: MatchValue<string>;
  manufacturer?: MatchValue<string>;
}

export interface PolicyRule {
  match: PolicyMatch;
  /** In order; `[none]` leaves the device alone. */
  actions: DeviceActionName[];
  wipe?: WipeOptions;
  captureActivationLockBypass?: boolean;
  /** A wipe that can match a personal device is refused at load unless this is set. */
  allowPersonalWipe?: boolean;
}

export interface PolicyProfile {
  rules: PolicyRule[];
}

export interface DevicePolicy {
  /** The profile used when a request names none. */
  default: string;
  profiles: Record<string, PolicyProfile>;
  /** Where it was read from (for messages). */
  source?: string;
}

/** Who names a profile: absent = unrestricted (CLI, schedules, console operators). */
export interface DevicePolicyScope {
  /** The key's role (config/api-keys.ts Role; a string here so config/ can import this folder). */
  role: string;
  /** The key's allowed profiles beside the default (API_KEYS); `*` = any. */
  devicePolicies?: readonly string[];
}
