// Per-device Intune actions in the simulator (DEVICE_POLICY_FILE, issue 21): what a retire, wipe or
// delete of ONE managed device did to it, and the platform rules Intune applies before accepting one.
// The DeviceBook (devices.ts) asks this book how each device reads now; the routes
// (device-actions-route.ts, device-actions-read.ts) change it. Free of the simulator state, like
// devices.ts, so the book can hold it without a file circle.
//
// A retire or wipe answered 204 puts the device in retirePending / wipePending with a
// `deviceActionResults` entry (actionState `pending`); after `retireDelayMs` a device that checks in
// leaves the user's list and its action reads `done` (the record stays readable by id until it is
// deleted: Intune keeps the action history on the record); one that `fails` reads retireFailed /
// wipeFailed (`failed`); one that never checks in stays pending. A delete removes the record at once
// (reads by id answer 404, the user's list no longer has it).

/** The per-device writes the simulator accepts. */
export type DeviceActionKind = 'retire' | 'wipe';

/** v1.0 `deviceActionResult` (complex type): the action history Intune keeps on a managed device. */
export interface SimDeviceActionResult {
  actionName: string;
  actionState: 'pending' | 'done' | 'failed';
  startDateTime: string;
  lastUpdatedDateTime: string;
}

interface Taken {
  kind: DeviceActionKind;
  at: number;
}

/** How a device reacts to an action once it checks in (the DeviceBook's behaviours). */
export type Reaction = 'normal' | 'neverChecksIn' | 'fails';

/** What an action (per device or the user's removeAllDevicesFromManagement) made of a device now. */
export interface DeviceStateNow {
  /** False once the device has left the user's list (action done) or was deleted. */
  listed: boolean;
  managementState?: string;
  results: SimDeviceActionResult[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class DeviceActionBook {
  /** deviceId (lower-case) → the actions accepted for it, in order. */
  private readonly taken = new Map<string, Taken[]>();
  private readonly deleted = new Map<string, number>();

  reset(): void {
    this.taken.clear();
    this.deleted.clear();
  }

  /** A retire or wipe was accepted (204) for the device. */
  record(deviceId: string, kind: DeviceActionKind, now = Date.now()): void {
    const key = deviceId.toLowerCase();
    const list = this.taken.get(key) ?? [];
    list.push({ kind, at: now });
    this.taken.set(key, list);
  }

  /** A DELETE was accepted: the record is gone from Intune. */
  remove(deviceId: string, now = Date.now()): void {
    this.deleted.set(deviceId.toLowerCase(), now);
  }

  isDeleted(deviceId: string): boolean {
    return this.deleted.has(deviceId.toLowerCase());
  }

  /** Whether any per-device action was accepted for the device. */
  has(deviceId: string): boolean {
    return this.taken.has(deviceId.toLowerCase());
  }

  /**
   * The device's state now, from its per-device actions and, when none, the user's retire of every
   * device (`userRetiredAt`). `delayMs` is how long an accepted action stays pending.
   */
  stateOf(
    deviceId: string,
    reaction: Reaction,
    delayMs: number,
    now: number,
    userRetiredAt?: number,
  ): DeviceStateNow {
    const key = deviceId.toLowerCase();
    if (this.deleted.has(key)) return { listed: false, results: [] };
    const own = this.taken.get(key) ?? [];
    const taken: Taken[] =
      own.length > 0 ? own : userRetiredAt === undefined ? [] : [{ kind: 'retire', at: userRetiredAt }];
    if (taken.length === 0) return { listed: true, results: [] };
    const results = taken.map((t) => result(t, reaction, delayMs, now));
    // The latest action decides how the device reads (a wipe sent after a retire wins).
    const last = taken[taken.length - 1] as Taken;
    const settled = now - last.at >= delayMs;
    if (reaction === 'normal' && settled)
      return { listed: false, managementState: `${last.kind}Pending`, results };
    const managementState = reaction === 'fails' && settled ? `${last.kind}Failed` : `${last.kind}Pending`;
    return { listed: true, managementState, results };
  }
}

function result(t: Taken, reaction: Reaction, delayMs: number, now: number): SimDeviceActionResult {
  const settled = now - t.at >= delayMs;
  const actionState =
    !settled || reaction === 'neverChecksIn' ? 'pending' : reaction === 'fails' ? 'failed' : 'done';
  return {
    actionName: t.kind,
    actionState,
    startDateTime: iso(t.at),
    lastUpdatedDateTime: iso(settled && reaction !== 'neverChecksIn' ? t.at + delayMs : t.at),
  };
}

/** A device as the platform rules read it (v1.0 property names). */
export type PlatformFacts = Record<string, unknown>;

/**
 * Intune's platform rules (Intune docs, "Remove devices by using wipe, retire…"): wipe is not available
 * on Android personally-owned work profile devices nor on iOS/iPadOS User Enrollment (retire only);
 * Android dedicated, fully managed and corporate-owned work profile devices support wipe only. The
 * refusal's wording is the simulator's (no recorded Graph answer found): a 400 BadRequest that names
 * the action and the platform. Returns undefined when the action is allowed.
 */
export function platformRefusal(kind: DeviceActionKind, d: PlatformFacts): string | undefined {
  const os = String(d.operatingSystem ?? '').toLowerCase();
  const owner = String(d.managedDeviceOwnerType ?? '').toLowerCase();
  const enrollment = String(d.deviceEnrollmentType ?? '');
  if (kind === 'wipe' && os === 'android' && owner === 'personal') {
    return 'The wipe action is not supported on Android personally-owned work profile devices; use retire.';
  }
  if (kind === 'wipe' && (os === 'ios' || os === 'ipados') && enrollment.startsWith('appleUserEnrollment')) {
    return 'The wipe action is not supported on iOS/iPadOS devices enrolled with User Enrollment; use retire.';
  }
  if (kind === 'retire' && os === 'android' && owner === 'company') {
    return 'The retire action is not supported on Android Enterprise corporate-owned devices (dedicated, fully managed, corporate-owned work profile); use wipe.';
  }
  return undefined;
}
