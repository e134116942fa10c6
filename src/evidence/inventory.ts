// The inventory before the action: a leaver's managed devices read once per retire job, through the
// READ pacer (its own budget: a read never takes a write slot) and the token provider. Every page is
// a read call counted in the fleet metrics (`read_calls:<status>`); the read ends in one `inventory`
// audit entry (devices, pages, request-ids, or the failure). Pace, gate, feedback and the 401 refresh
// are graphCall's (src/graph/call.ts). Retrying is the caller's (the retire processor's policy); this
// file reads once and builds the evidence record after the action.
import type { Config } from '../config/load.js';
import { exchangeStatus, type GraphCallContext, graphReadAll } from '../graph/call.js';
import { managedDevicesPath, toDevices } from '../graph/devices.js';
import { type GraphBadRequestError, GraphError, type GraphForbiddenError } from '../graph/errors.js';
import type {
  DeviceActionResult,
  DeviceInventory,
  DevicePlan,
  EvidenceRecord,
  ManagedDevice,
  Outcome,
  RetireJobData,
} from '../interfaces.js';
import { type AuditContext, appendAudit } from '../records/audit.js';
import { incrementMetrics } from '../records/metrics.js';
import { deviceSummary, initialActionChecks, leaverActionState } from './verification-actions.js';

export interface InventoryDeps {
  ctx: AuditContext & { config: Config };
  /** The READ budget's call context: its pacer is the read pacer. */
  graph: GraphCallContext;
  actor: string;
}

export interface InventoryTarget {
  jobId: string;
  user: string;
  correlationId?: string;
}

export interface InventorySignals {
  /** Shutdown or cancellation: stops waiting for a read slot. */
  wait?: AbortSignal;
  /** Cancellation only: aborts a read on the wire. */
  call?: AbortSignal;
}

/**
 * 403 on the inventory read: the READ permission (or this user's scope) is missing. Not the retire's
 * 403: the circuit judges it with its own key (read_permission_missing), and it never dead-letters
 * a job as `forbidden` at once.
 */
export class InventoryForbiddenError extends Error {
  override readonly name = 'InventoryForbiddenError';
  constructor(readonly graphError: GraphForbiddenError) {
    super('Graph refused to list the devices of this user (403 on the inventory read)', {
      cause: graphError,
    });
  }
}

/**
 * 400 (or another 4xx retrying cannot fix) on the inventory read. Judged per request shape: refused
 * for a share of the users, it is the product's request (circuit `request_rejected`); else this
 * user's dead letter `bad_request`.
 */
export class InventoryRejectedError extends Error {
  override readonly name = 'InventoryRejectedError';
  constructor(readonly graphError: GraphBadRequestError) {
    super(`Graph refused the device inventory read of this user (${graphError.status})`, {
      cause: graphError,
    });
  }
}

/** Reads every page of the user's devices once. Rejects with the GraphError (or pacer/token error). */
export async function takeInventory(
  deps: InventoryDeps,
  target: InventoryTarget,
  signals: InventorySignals = {},
): Promise<DeviceInventory> {
  const { redis, prefix } = deps.ctx;
  const at = new Date().toISOString();
  let calls = 0;
  const audit = (details: Record<string, unknown>) =>
    appendAudit(deps.ctx, [
      {
        type: 'inventory',
        actor: deps.actor,
        at,
        jobId: target.jobId,
        user: target.user,
        ...(target.correlationId ? { correlationId: target.correlationId } : {}),
        details,
      },
    ]);
  try {
    const list = await graphReadAll(deps.graph, {
      path: managedDevicesPath(target.user),
      subject: target.user,
      ...(signals.wait ? { wait: signals.wait } : {}),
      ...(signals.call ? { call: signals.call } : {}),
      onExchange: (e) => {
        calls += 1;
        incrementMetrics(redis, prefix, { [`read_calls:${exchangeStatus(e)}`]: 1 }).catch(() => undefined);
      },
    });
    const devices = toDevices(list.value);
    const inventory: DeviceInventory = { at, devices, requestIds: list.requestIds, pages: list.pages };
    await Promise.all([
      audit({ devices: devices.length, pages: list.pages, requestIds: list.requestIds }),
      incrementMetrics(redis, prefix, { inventories: 1, devices_inventoried: devices.length }),
    ]);
    return inventory;
  } catch (err) {
    if (err instanceof GraphError) {
      await audit({
        ok: false,
        readCalls: calls,
        status: err.status,
        error: err.name,
        ...(err.code ? { code: err.code } : {}),
        ...(err.requestId ? { requestId: err.requestId } : {}),
      }).catch(() => undefined);
    }
    throw err;
  }
}

/** An inventory kept in a job's progress by an earlier run (validated: progress is free-form JSON). */
export function savedInventory(progress: unknown): DeviceInventory | undefined {
  const inv = (progress as { inventory?: unknown } | null)?.inventory as Partial<DeviceInventory> | undefined;
  if (typeof inv !== 'object' || inv === null) return undefined;
  if (typeof inv.at !== 'string' || !Array.isArray(inv.devices) || !Array.isArray(inv.requestIds))
    return undefined;
  const devices = inv.devices.filter(
    (d): d is ManagedDevice =>
      typeof d === 'object' && d !== null && typeof (d as ManagedDevice).id === 'string',
  );
  return {
    at: inv.at,
    devices,
    requestIds: inv.requestIds.filter((r): r is string => typeof r === 'string'),
    pages: typeof inv.pages === 'number' ? inv.pages : 0,
  };
}

/**
 * The proof of one finished retire job: the inventory, the action and where its verification starts.
 * Under a device policy (`deviceActions`), each device × action that went out is verified (the first
 * read VERIFY_AFTER after the last action), one that did not is `failed` from the start.
 */
export function evidenceRecord(input: {
  jobId: string;
  data: RetireJobData;
  inventory: DeviceInventory;
  outcome: Outcome;
  action?: { at: string; requestId?: string; status: number };
  config: Pick<Config, 'evidence'>;
  devicePlan?: DevicePlan[];
  deviceActions?: DeviceActionResult[];
}): EvidenceRecord {
  const { data, inventory, outcome, action } = input;
  if (input.deviceActions && input.deviceActions.length > 0 && outcome !== 'dry_run') {
    return policyEvidenceRecord({ ...input, deviceActions: input.deviceActions });
  }
  // A dry run under a policy keeps what it would have done (every action `planned`), nothing to verify.
  const planned = {
    ...(input.devicePlan ? { devicePlan: input.devicePlan } : {}),
    ...(input.deviceActions ? { deviceActions: input.deviceActions } : {}),
  };
  const verify = outcome === 'retired' && action !== undefined && inventory.devices.length > 0;
  const actedAt = action ? Date.parse(action.at) : Date.now();
  return {
    jobId: input.jobId,
    user: data.user,
    ...(data.batchId ? { batchId: data.batchId } : {}),
    ...(data.tenant ? { tenant: data.tenant } : {}),
    requestedBy: data.requestedBy,
    correlationId: data.correlationId,
    source: data.source,
    inventoriedAt: inventory.at,
    inventoryRequestIds: inventory.requestIds,
    devices: inventory.devices,
    ...(action ? { action } : {}),
    outcome,
    verification: verify
      ? {
          state: 'pending',
          checks: 0,
          nextCheckAt: new Date(actedAt + input.config.evidence.verifyAfterMs).toISOString(),
          deadline: new Date(actedAt + input.config.evidence.verifyWindowMs).toISOString(),
          devices: inventory.devices.map((d) => ({
            deviceId: d.id,
            result: 'pending',
            stateAfter: d.managementState ?? null,
            checkedAt: inventory.at,
          })),
        }
      : { state: 'not_applicable', checks: 0, devices: [] },
    ...planned,
  };
}

/** The evidence of a device policy's run: its plan, its actions and one check per device × action. */
function policyEvidenceRecord(input: {
  jobId: string;
  data: RetireJobData;
  inventory: DeviceInventory;
  outcome: Outcome;
  config: Pick<Config, 'evidence'>;
  devicePlan?: DevicePlan[];
  deviceActions: DeviceActionResult[];
}): EvidenceRecord {
  const { data, inventory, deviceActions } = input;
  const times = deviceActions.map((r) => (r.at ? Date.parse(r.at) : Number.NaN)).filter(Number.isFinite);
  // The window runs from the last action: a device deleted last is read after its delete.
  const actedAt = times.length > 0 ? Math.max(...times) : Date.now();
  const actions = initialActionChecks(deviceActions, inventory.at);
  const state = leaverActionState(actions.map((a) => a.result));
  const devices = [...new Set(actions.map((a) => a.deviceId))].map((deviceId) => {
    const own = actions.filter((a) => a.deviceId === deviceId);
    const before = inventory.devices.find((d) => d.id === deviceId);
    return {
      deviceId,
      result: deviceSummary(own.map((a) => a.result)),
      stateAfter: before?.managementState ?? null,
      checkedAt: inventory.at,
    };
  });
  return {
    jobId: input.jobId,
    user: data.user,
    ...(data.batchId ? { batchId: data.batchId } : {}),
    requestedBy: data.requestedBy,
    correlationId: data.correlationId,
    source: data.source,
    inventoriedAt: inventory.at,
    inventoryRequestIds: inventory.requestIds,
    devices: inventory.devices,
    outcome: input.outcome,
    verification: {
      // Nothing went out at all (every action failed): nothing to read, the leaver is unverified now.
      state,
      checks: 0,
      ...(state === 'pending'
        ? { nextCheckAt: new Date(actedAt + input.config.evidence.verifyAfterMs).toISOString() }
        : { endedAt: new Date(actedAt).toISOString() }),
      deadline: new Date(actedAt + input.config.evidence.verifyWindowMs).toISOString(),
      devices,
      actions,
    },
    ...(input.devicePlan ? { devicePlan: input.devicePlan } : {}),
    deviceActions,
  };
}
