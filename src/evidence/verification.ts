// The verification rules, pure: from the inventory, the devices read now (or null when the read
// failed), the previous checks, the time and the deadline, decide each device's result, the
// leaver's state and when to read again. No I/O, so the table test covers every rule.
//
// Per device (latest read wins, so a retireFailed device an admin retries can still end retired):
//   gone from the list                         → retired
//   retireFailed / retireCanceled              → failed
//   managed, retirePending, retireIssued, …    → pending; at the deadline → not_retired
// Per leaver: any device pending → pending (keep reading); every device retired → verified;
// otherwise (failed or not_retired among them) → unverified.
import type { DeviceCheck, DeviceResult, ManagedDevice, VerificationState } from '../interfaces.js';

/** Longest wait between two reads: a device that checks in late is still seen within this. */
export const MAX_VERIFY_INTERVAL_MS = 4 * 3_600_000;

const FAILED_STATES = new Set(['retirefailed', 'retirecanceled']);

export const NOTE_READ_FAILED = 'reads failed until the deadline: state unknown';

export interface VerificationInput {
  /** The devices inventoried before the action: the only ones judged. */
  inventory: ManagedDevice[];
  /** The user's devices read now; null when the read failed (403, 5xx, timeout). */
  current: ManagedDevice[] | null;
  /** Checks of the previous read, kept as they were when this read failed. */
  previous?: DeviceCheck[];
  now: number;
  /** Reads stop at this instant (ms): pending devices then become not_retired. */
  deadline: number;
  /** Reads made before this one (the first read after the action is check 1). */
  checksBefore: number;
  /** VERIFY_AFTER: the first wait, doubled after each read. */
  verifyAfterMs: number;
}

export interface VerificationDecision {
  devices: DeviceCheck[];
  state: VerificationState;
  /** When to read again (ms), only while pending; never past the deadline, the last read at it. */
  nextCheckAt?: number;
  /** Listed now but not inventoried (enrolled since the action): noted, not judged. */
  unexpectedDevices: string[];
}

/** One device from its state in the latest read (undefined: gone from the list). */
export function deviceResult(device: ManagedDevice | undefined, atDeadline: boolean): DeviceResult {
  if (!device) return 'retired';
  const state = (device.managementState ?? '').toLowerCase();
  if (FAILED_STATES.has(state)) return 'failed';
  return atDeadline ? 'not_retired' : 'pending';
}

/** The leaver's state from the device results. No device at all: nothing to verify. */
export function leaverState(results: readonly DeviceResult[]): VerificationState {
  if (results.length === 0) return 'not_applicable';
  if (results.some((r) => r === 'pending')) return 'pending';
  if (results.every((r) => r === 'retired')) return 'verified';
  return 'unverified';
}

/**
 * Wait after read number `checks` (1-based): VERIFY_AFTER × 2^checks, capped at
 * MAX_VERIFY_INTERVAL_MS (15m default: 30m, 1h, 2h, 4h, 4h… ≈ 20 reads over 72h).
 */
export function backoffMs(checks: number, verifyAfterMs: number): number {
  const doubled = verifyAfterMs * 2 ** Math.min(Math.max(checks, 0), 30);
  return Math.min(Math.max(doubled, 1), MAX_VERIFY_INTERVAL_MS);
}

/** The next read: after the backoff, but never past the deadline (the last read is at it). */
export function nextCheckAt(now: number, deadline: number, checks: number, verifyAfterMs: number): number {
  return Math.min(now + backoffMs(checks, verifyAfterMs), deadline);
}

export function decideVerification(input: VerificationInput): VerificationDecision {
  const atDeadline = input.now >= input.deadline;
  const checkedAt = new Date(input.now).toISOString();
  const checks = input.checksBefore + 1;
  const inventoried = new Set(input.inventory.map((d) => d.id));
  const previous = new Map((input.previous ?? []).map((c) => [c.deviceId, c]));
  const devices: DeviceCheck[] = [];

  if (input.current === null) {
    // A failed read tells nothing new: keep what the last read said; at the deadline, what is
    // still pending cannot be proven retired.
    for (const device of input.inventory) {
      const before = previous.get(device.id);
      const check: DeviceCheck = before
        ? { ...before }
        : { deviceId: device.id, result: 'pending', stateAfter: device.managementState ?? null, checkedAt };
      if (atDeadline && check.result === 'pending') {
        check.result = 'not_retired';
        check.note = NOTE_READ_FAILED;
        check.checkedAt = checkedAt;
      }
      devices.push(check);
    }
    const state = leaverState(devices.map((d) => d.result));
    return {
      devices,
      state,
      ...(state === 'pending'
        ? { nextCheckAt: nextCheckAt(input.now, input.deadline, checks, input.verifyAfterMs) }
        : {}),
      unexpectedDevices: [],
    };
  }

  const now = new Map(input.current.map((d) => [d.id, d]));
  for (const device of input.inventory) {
    const seen = now.get(device.id);
    devices.push({
      deviceId: device.id,
      result: deviceResult(seen, atDeadline),
      stateAfter: seen ? (seen.managementState ?? null) : null,
      checkedAt,
    });
  }
  const unexpectedDevices = input.current.map((d) => d.id).filter((id) => !inventoried.has(id));
  const state = leaverState(devices.map((d) => d.result));
  return {
    devices,
    state,
    ...(state === 'pending'
      ? { nextCheckAt: nextCheckAt(input.now, input.deadline, checks, input.verifyAfterMs) }
      : {}),
    unexpectedDevices,
  };
}
