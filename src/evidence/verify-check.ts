// One verification check's reads and decision, for both kinds of evidence: a leaver retired with one
// `removeAllDevicesFromManagement` (the user's device list, verification.ts) and a leaver whose devices
// got a device policy's actions (each device × action, verification-actions.ts). The processor
// (verify-processor.ts) writes what this decides; it does not care which kind it was.
import type { DeviceActionCheck, DeviceCheck, EvidenceRecord, VerificationState } from '../interfaces.js';
import { decideVerification } from './verification.js';
import { decideActionVerification, readsNeeded } from './verification-actions.js';
import { readDevicesForVerification, type VerifyReadDeps } from './verify-read.js';
import { readActionsForVerification } from './verify-read-actions.js';

export interface CheckDecision {
  devices: DeviceCheck[];
  /** Device policy only: one check per device × action. */
  actions?: DeviceActionCheck[];
  state: VerificationState;
  nextCheckAt?: number;
  unexpectedDevices: string[];
}

export type CheckOutcome =
  | { kind: 'later'; at: number; reason: string; delayMs: number }
  | {
      kind: 'decided';
      now: number;
      decision: CheckDecision;
      /** What the reads were, for the `verification` audit entry. */
      readDetails: Record<string, unknown>;
    };

/** Whether this evidence is a device policy's: its actions are verified one by one. */
export function hasDeviceActions(record: EvidenceRecord): boolean {
  return Array.isArray(record.deviceActions) && record.deviceActions.length > 0;
}

export interface CheckInput {
  record: EvidenceRecord;
  deadline: number;
  verifyAfterMs: number;
}

/** Reads and decides once. A postponed read before the deadline is `later`; at it, the check decides. */
export async function checkOnce(deps: VerifyReadDeps, input: CheckInput): Promise<CheckOutcome> {
  return hasDeviceActions(input.record) ? checkActions(deps, input) : checkDevices(deps, input);
}

async function checkDevices(deps: VerifyReadDeps, input: CheckInput): Promise<CheckOutcome> {
  const { record, deadline } = input;
  const v = record.verification;
  const read = await readDevicesForVerification(deps, record.user);
  const now = Date.now();
  if (read.kind === 'later' && now < deadline) {
    return {
      kind: 'later',
      at: Math.min(now + read.delayMs, deadline),
      reason: read.reason,
      delayMs: read.delayMs,
    };
  }
  const decision = decideVerification({
    inventory: record.devices,
    current: read.kind === 'ok' ? read.devices : null,
    previous: v.devices,
    now,
    deadline,
    checksBefore: v.checks,
    verifyAfterMs: input.verifyAfterMs,
  });
  return {
    kind: 'decided',
    now,
    decision,
    readDetails:
      read.kind === 'ok'
        ? { requestIds: read.requestIds }
        : read.kind === 'failed'
          ? { readFailed: read.status ?? read.error, requestId: read.requestId }
          : { readPostponed: read.reason },
  };
}

async function checkActions(deps: VerifyReadDeps, input: CheckInput): Promise<CheckOutcome> {
  const { record, deadline } = input;
  const v = record.verification;
  const results = record.deviceActions ?? [];
  const wanted = readsNeeded({
    inventory: record.devices,
    results,
    ...(v.actions ? { previous: v.actions } : {}),
  });
  const read = await readActionsForVerification(deps, record.user, wanted);
  const now = Date.now();
  if (read.kind === 'later' && now < deadline) {
    return {
      kind: 'later',
      at: Math.min(now + read.delayMs, deadline),
      reason: read.reason,
      delayMs: read.delayMs,
    };
  }
  const decision = decideActionVerification({
    inventory: record.devices,
    results,
    devices: read.kind === 'ok' ? read.devices : new Map(),
    autopilot: read.kind === 'ok' ? read.autopilot : new Map(),
    ...(v.actions ? { previous: v.actions } : {}),
    now,
    deadline,
    checksBefore: v.checks,
    verifyAfterMs: input.verifyAfterMs,
  });
  return {
    kind: 'decided',
    now,
    decision: { ...decision, unexpectedDevices: [] },
    readDetails:
      read.kind === 'ok'
        ? {
            requestIds: read.requestIds,
            deviceReads: wanted.devices.length,
            autopilotReads: wanted.serials.length,
            ...(read.failedReads > 0 ? { failedReads: read.failedReads } : {}),
          }
        : { readPostponed: read.reason },
  };
}
