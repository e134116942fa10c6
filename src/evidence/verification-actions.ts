// The verification rules of a device policy's actions, pure: from each device × action's result, what
// the reads answered now (per device, per Autopilot serial), the previous checks, the time and the
// deadline, decide each action's result, each device's summary, the leaver's state and when to read
// again. No I/O, so the table test covers every rule (verification.ts is the same for one retire).
//
// Per device × action (latest read wins):
//   the action itself failed, was skipped or never confirmed     → failed (nothing was sent to prove)
//   retire/wipe   device gone (404), or its deviceActionResults
//                 entry for the action says `done`                → verified
//                 that entry says failed/notSupported/canceled,
//                 or managementState <action>Failed/<action>Canceled → failed
//                 otherwise (retirePending, wipePending, …)      → pending; at the deadline → not_verified
//   delete        the device read answers 404                      → verified, else pending
//   autopilot-deregister  no identity with the device's serial     → verified, else pending
// A read that failed keeps the previous result; at the deadline what is still pending becomes
// not_verified with a note. Per leaver: any pending → pending; all verified → verified; else unverified.
import type {
  DeviceActionCheck,
  DeviceActionResult,
  DeviceActionVerification,
  DeviceCheck,
  DeviceResult,
  ManagedDevice,
  VerificationState,
} from '../interfaces.js';
import { NOTE_READ_FAILED, nextCheckAt } from './verification.js';

/** One device as its own read answered: the fields the verification selects. */
export interface DeviceReadState {
  id: string;
  managementState?: string | null;
  deviceActionResults?: { actionName?: string | null; actionState?: string | null }[] | null;
}

/** What one device read answered: the device, gone (404), or nothing usable (403, 5xx, timeout). */
export type DeviceRead = { kind: 'ok'; device: DeviceReadState } | { kind: 'gone' } | { kind: 'failed' };

/** What one Autopilot search by serial answered: how many identities still carry it, or failed. */
export type AutopilotRead = { kind: 'ok'; identities: number } | { kind: 'failed' };

export interface ActionVerificationInput {
  /** The inventory before the actions (each device's serial number for the Autopilot search). */
  inventory: ManagedDevice[];
  /** Each device × action as the worker recorded it. */
  results: DeviceActionResult[];
  /** Reads made now, by device id (devices needing no read are absent). */
  devices: ReadonlyMap<string, DeviceRead>;
  /** Autopilot searches made now, by serial number. */
  autopilot: ReadonlyMap<string, AutopilotRead>;
  previous?: DeviceActionCheck[];
  now: number;
  deadline: number;
  checksBefore: number;
  verifyAfterMs: number;
}

export interface ActionVerificationDecision {
  actions: DeviceActionCheck[];
  /** Each device's summary, for readers that know devices only (counts, notifications, the CSV). */
  devices: DeviceCheck[];
  state: VerificationState;
  nextCheckAt?: number;
}

/** Action states that mean the call went out and Graph took it (404: already gone counts as done). */
const SENT = new Set(['done', 'gone']);
const ACTION_FAILED = new Set(['failed', 'notsupported', 'canceled']);

export const NOTE_ACTION_NOT_DONE = 'the action did not succeed: nothing to verify';
export const NOTE_NO_SERIAL = 'no serial number: the Autopilot registration cannot be looked up';

export const actionKey = (deviceId: string, action: string) => `${deviceId}:${action}`;

/** The checks every action starts with, right after the worker's run (before any read). */
export function initialActionChecks(results: DeviceActionResult[], at: string): DeviceActionCheck[] {
  return results.map((r) => ({
    deviceId: r.deviceId,
    action: r.action,
    result: SENT.has(r.state) ? 'pending' : 'failed',
    stateAfter: null,
    checkedAt: at,
    ...(SENT.has(r.state) ? {} : { note: NOTE_ACTION_NOT_DONE }),
  }));
}

/** Whether a check still needs reads: only pending ones do (verified/failed/not_verified are final). */
export function needsRead(check: DeviceActionCheck | undefined): boolean {
  return check === undefined || check.result === 'pending';
}

function actionEntry(device: DeviceReadState, action: string) {
  const want = action.toLowerCase();
  return (device.deviceActionResults ?? []).find((r) => (r?.actionName ?? '').toLowerCase() === want);
}

/** One retire/wipe from the device's own read. */
function retireOrWipe(action: 'retire' | 'wipe', device: DeviceReadState): DeviceActionVerification {
  const entry = actionEntry(device, action);
  const state = (entry?.actionState ?? '').toLowerCase();
  if (state === 'done') return 'verified';
  if (ACTION_FAILED.has(state)) return 'failed';
  const mgmt = (device.managementState ?? '').toLowerCase();
  if (mgmt === `${action}failed` || mgmt === `${action}canceled`) return 'failed';
  return 'pending';
}

export function decideActionVerification(input: ActionVerificationInput): ActionVerificationDecision {
  const atDeadline = input.now >= input.deadline;
  const checkedAt = new Date(input.now).toISOString();
  const checks = input.checksBefore + 1;
  const previous = new Map((input.previous ?? []).map((c) => [actionKey(c.deviceId, c.action), c]));
  const serials = new Map(input.inventory.map((d) => [d.id, d.serialNumber ?? null]));
  const initial = initialActionChecks(input.results, checkedAt);

  const actions = initial.map((start): DeviceActionCheck => {
    const before = previous.get(actionKey(start.deviceId, start.action));
    if (start.result === 'failed') return before?.result === 'failed' ? before : start;
    if (before && !needsRead(before)) return before;
    const fresh = judge(start, input, serials.get(start.deviceId) ?? null, checkedAt);
    const check = fresh ?? (before ? { ...before } : start);
    if (atDeadline && check.result === 'pending') {
      return { ...check, result: 'not_verified', checkedAt, ...(fresh ? {} : { note: NOTE_READ_FAILED }) };
    }
    return check;
  });

  const devices = deviceSummaries(actions);
  const state = leaverActionState(actions.map((a) => a.result));
  return {
    actions,
    devices,
    state,
    ...(state === 'pending'
      ? { nextCheckAt: nextCheckAt(input.now, input.deadline, checks, input.verifyAfterMs) }
      : {}),
  };
}

/** A fresh check from this round's reads; undefined when nothing usable was read for it. */
function judge(
  start: DeviceActionCheck,
  input: ActionVerificationInput,
  serial: string | null,
  checkedAt: string,
): DeviceActionCheck | undefined {
  const base = { deviceId: start.deviceId, action: start.action, checkedAt };
  if (start.action === 'autopilot-deregister') {
    if (!serial) return { ...base, result: 'not_verified', stateAfter: null, note: NOTE_NO_SERIAL };
    const read = input.autopilot.get(serial);
    if (!read || read.kind === 'failed') return undefined;
    return { ...base, result: read.identities === 0 ? 'verified' : 'pending', stateAfter: null };
  }
  const read = input.devices.get(start.deviceId);
  if (!read || read.kind === 'failed') return undefined;
  if (read.kind === 'gone') return { ...base, result: 'verified', stateAfter: null };
  const device = read.device;
  const stateAfter = device.managementState ?? null;
  if (start.action === 'delete') return { ...base, result: 'pending', stateAfter };
  const entry = actionEntry(device, start.action);
  return {
    ...base,
    result: retireOrWipe(start.action, device),
    stateAfter,
    ...(entry ? { actionState: entry.actionState ?? null } : {}),
  };
}

/** The leaver's state from the action results. No action at all: nothing to verify. */
export function leaverActionState(results: readonly DeviceActionVerification[]): VerificationState {
  if (results.length === 0) return 'not_applicable';
  if (results.some((r) => r === 'pending')) return 'pending';
  if (results.every((r) => r === 'verified')) return 'verified';
  return 'unverified';
}

/** One device's summary in DeviceResult words: what readers of `verification.devices` know. */
export function deviceSummary(results: readonly DeviceActionVerification[]): DeviceResult {
  if (results.some((r) => r === 'pending')) return 'pending';
  if (results.some((r) => r === 'failed')) return 'failed';
  if (results.every((r) => r === 'verified')) return 'retired';
  return 'not_retired';
}

function deviceSummaries(actions: DeviceActionCheck[]): DeviceCheck[] {
  const byDevice = new Map<string, DeviceActionCheck[]>();
  for (const a of actions) byDevice.set(a.deviceId, [...(byDevice.get(a.deviceId) ?? []), a]);
  return [...byDevice].map(([deviceId, list]) => {
    const last = list.reduce((a, b) => (a.checkedAt >= b.checkedAt ? a : b));
    // The device's state as its latest read answered (null once gone); Autopilot reads do not read it.
    const seen = list
      .filter((a) => a.action !== 'autopilot-deregister')
      .reduce<DeviceActionCheck | undefined>((a, b) => (a && a.checkedAt >= b.checkedAt ? a : b), undefined);
    return {
      deviceId,
      result: deviceSummary(list.map((a) => a.result)),
      stateAfter: seen?.stateAfter ?? null,
      checkedAt: last.checkedAt,
    };
  });
}

/** The devices whose own read this round needs, and the serials to search Autopilot for. */
export function readsNeeded(plan: {
  inventory: ManagedDevice[];
  results: DeviceActionResult[];
  previous?: DeviceActionCheck[];
}): { devices: string[]; serials: string[] } {
  const previous = new Map((plan.previous ?? []).map((c) => [actionKey(c.deviceId, c.action), c]));
  const serials = new Map(plan.inventory.map((d) => [d.id, d.serialNumber ?? null]));
  const devices = new Set<string>();
  const search = new Set<string>();
  for (const r of plan.results) {
    if (!SENT.has(r.state) || !needsRead(previous.get(actionKey(r.deviceId, r.action)))) continue;
    if (r.action === 'autopilot-deregister') {
      const serial = serials.get(r.deviceId);
      if (serial) search.add(serial);
    } else devices.add(r.deviceId);
  }
  return { devices: [...devices], serials: [...search] };
}
