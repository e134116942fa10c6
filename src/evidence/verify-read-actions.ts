// The reads of one verification check of a device policy's actions, on the READ budget: each device
// still to prove read by itself (`$select=id,managementState,deviceActionResults`; a 404 is the proof
// of a delete, and of a retire or wipe too: the device is gone), and each serial number whose
// Autopilot deregistration is still to prove searched once. Like verify-read.ts: a read 429, the
// circuit holding calls or a token failure make the whole check `later` (nothing learnt, nothing
// wrong with this leaver); any other failure is that one read's `failed` (its checks keep their
// last result). The rules that judge the answers are verification-actions.ts's.
import { TokenAcquisitionError } from '../entra/errors.js';
import { type Exchange, exchangeStatus, graphRead } from '../graph/call.js';
import { GraphNotFoundError, GraphThrottledError } from '../graph/errors.js';
import { autopilotBySerialRequest, deviceReadRequest } from '../graph/requests.js';
import { PacerHoldError } from '../pacing/pacer.js';
import { incrementMetrics } from '../records/metrics.js';
import type { AutopilotRead, DeviceRead, DeviceReadState } from './verification-actions.js';
import { READ_LATER_MS, type VerifyReadDeps } from './verify-read.js';

/** The fields one device read selects (Graph v1.0 managedDevice; deviceActionResults is its action log). */
export const DEVICE_VERIFY_FIELDS = ['id', 'managementState', 'deviceActionResults'] as const;

export type ActionReadOutcome =
  | {
      kind: 'ok';
      devices: Map<string, DeviceRead>;
      autopilot: Map<string, AutopilotRead>;
      /** Graph request-ids of the reads (support needs them), and how many reads failed. */
      requestIds: string[];
      failedReads: number;
    }
  | { kind: 'later'; delayMs: number; reason: 'throttled' | 'held' | 'token' };

/** Thrown inside a round to stop it: the check is postponed, not failed. */
class Later extends Error {
  constructor(readonly outcome: Extract<ActionReadOutcome, { kind: 'later' }>) {
    super(outcome.reason);
  }
}

function laterOf(err: unknown): Later | undefined {
  if (err instanceof PacerHoldError)
    return new Later({ kind: 'later', delayMs: READ_LATER_MS, reason: 'held' });
  if (err instanceof TokenAcquisitionError) {
    return new Later({
      kind: 'later',
      delayMs: Math.max(err.retryAfterMs ?? 0, READ_LATER_MS),
      reason: 'token',
    });
  }
  if (err instanceof GraphThrottledError) {
    return new Later({ kind: 'later', delayMs: err.retryAfterMs ?? READ_LATER_MS, reason: 'throttled' });
  }
  return undefined;
}

/** One round of reads: the devices, then the serials, one paced read each, in order. */
export async function readActionsForVerification(
  deps: VerifyReadDeps,
  user: string,
  wanted: { devices: readonly string[]; serials: readonly string[] },
): Promise<ActionReadOutcome> {
  const devices = new Map<string, DeviceRead>();
  const autopilot = new Map<string, AutopilotRead>();
  const requestIds: string[] = [];
  let failedReads = 0;
  const read = (path: string) =>
    graphRead(deps.graph, {
      path,
      subject: user,
      ...(deps.signal ? { wait: deps.signal, call: deps.signal } : {}),
      onExchange: (e: Exchange) => {
        if (e.requestId) requestIds.push(e.requestId);
        incrementMetrics(deps.redis, deps.prefix, { [`read_calls:${exchangeStatus(e)}`]: 1 }).catch(
          () => undefined,
        );
      },
    });
  /** A read's failure as this read's answer, or the whole round postponed. */
  const failure = (err: unknown): 'gone' | 'failed' => {
    if (deps.signal?.aborted) throw err;
    const later = laterOf(err);
    if (later) throw later;
    if (err instanceof GraphNotFoundError) return 'gone';
    // Any other GraphError (403, 5xx, timeout), or a body that is not JSON: this read told nothing.
    failedReads += 1;
    return 'failed';
  };
  try {
    for (const id of wanted.devices) {
      try {
        const page = await read(deviceReadRequest(id, DEVICE_VERIFY_FIELDS).path);
        devices.set(id, { kind: 'ok', device: toDeviceState(id, page.body) });
      } catch (err) {
        devices.set(id, { kind: failure(err) });
      }
    }
    for (const serial of wanted.serials) {
      try {
        const page = await read(autopilotBySerialRequest(serial).path);
        autopilot.set(serial, { kind: 'ok', identities: countSerial(page.value, serial) });
      } catch (err) {
        const kind = failure(err);
        // 404 on a collection is not "none left": Graph answers an empty list for that.
        autopilot.set(serial, { kind: 'failed' });
        if (kind === 'gone') failedReads += 1;
      }
    }
  } catch (err) {
    if (err instanceof Later) return err.outcome;
    throw err;
  }
  return { kind: 'ok', devices, autopilot, requestIds, failedReads };
}

function toDeviceState(id: string, body: Record<string, unknown>): DeviceReadState {
  const results = Array.isArray(body.deviceActionResults) ? body.deviceActionResults : [];
  return {
    id: typeof body.id === 'string' ? body.id : id,
    managementState: typeof body.managementState === 'string' ? body.managementState : null,
    deviceActionResults: results
      .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
      .map((r) => ({
        actionName: typeof r.actionName === 'string' ? r.actionName : null,
        actionState: typeof r.actionState === 'string' ? r.actionState : null,
      })),
  };
}

/** Identities still registered with the serial (the filter asked for it; counted again, exactly). */
function countSerial(value: unknown[], serial: string): number {
  const want = serial.toLowerCase();
  return value.filter((v) => {
    const s = (v as { serialNumber?: unknown } | null)?.serialNumber;
    return typeof s !== 'string' || s.toLowerCase() === want;
  }).length;
}
