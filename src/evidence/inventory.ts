// The inventory before the action: a leaver's managed devices read once per retire job, through the
// READ pacer (its own budget: a read never takes a write slot) and the token provider. Every page is
// a read call counted in the fleet metrics (`read_calls:<status>`); the read ends in one `inventory`
// audit entry (devices, pages, request-ids, or the failure). The answer also feeds the read pace: a
// 429 gates reads only, a 5xx or timeout slows reads only when systemic. Retrying is the caller's
// (the retire processor's policy); this file reads once and builds the evidence record after the action.
import type { Config } from '../config/load.js';
import { listManagedDevices } from '../graph/devices.js';
import {
  GraphBadRequestError,
  GraphError,
  type GraphForbiddenError,
  GraphNetworkError,
  GraphNotFoundError,
  GraphThrottledError,
  GraphTimeoutError,
  GraphTransientError,
} from '../graph/errors.js';
import type {
  DeviceInventory,
  EvidenceRecord,
  ManagedDevice,
  Outcome,
  RetireJobData,
  TokenProvider,
} from '../interfaces.js';
import type { Pacer } from '../pacing/pacer.js';
import { sleep } from '../pacing/sleep.js';
import { type AuditContext, appendAudit } from '../records/audit.js';
import { incrementMetrics } from '../records/metrics.js';

export interface InventoryDeps {
  ctx: AuditContext & { config: Config };
  readPacer: Pacer;
  tokenProvider: Pick<TokenProvider, 'getToken'>;
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
  /** Fetch the first token past the cache (after a 401). */
  forceRefresh?: boolean;
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

function statusLabel(err: unknown): string {
  if (err instanceof GraphTimeoutError) return 'timeout';
  if (err instanceof GraphNetworkError) return 'network';
  if (err instanceof GraphError && err.status !== null) return String(err.status);
  return 'error';
}

/** Reads every page of the user's devices once. Rejects with the GraphError (or pacer/token error). */
export async function takeInventory(
  deps: InventoryDeps,
  target: InventoryTarget,
  signals: InventorySignals = {},
): Promise<DeviceInventory> {
  const { config, redis, prefix } = deps.ctx;
  const at = new Date().toISOString();
  let calls = 0;
  let forceRefresh = signals.forceRefresh === true;
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
    const list = await listManagedDevices({
      user: target.user,
      baseUrl: config.graph.baseUrl,
      timeoutMs: config.graph.timeoutMs,
      signal: signals.call,
      beforePage: async () => {
        // Token first (as for writes): a slot spent waiting for the token endpoint lands late.
        await deps.tokenProvider.getToken(forceRefresh ? { forceRefresh: true } : undefined);
        forceRefresh = false;
        await deps.readPacer.take(signals.wait);
        // A read Retry-After this process heard after the slot was granted: wait it out, new slot.
        while (deps.readPacer.localGateUntil() > Date.now()) {
          await sleep(deps.readPacer.localGateUntil() - Date.now(), signals.wait);
          await deps.readPacer.take(signals.wait);
        }
        return deps.tokenProvider.getToken();
      },
      afterPage: (r) => {
        calls += 1;
        const status = 'ok' in r ? String(r.ok.status) : statusLabel(r.error);
        incrementMetrics(redis, prefix, { [`read_calls:${status}`]: 1 }).catch(() => undefined);
      },
    });
    deps.readPacer.onSuccess(target.user);
    const inventory: DeviceInventory = {
      at,
      devices: list.value,
      requestIds: list.requestIds,
      pages: list.pages,
    };
    await Promise.all([
      audit({ devices: list.value.length, pages: list.pages, requestIds: list.requestIds }),
      incrementMetrics(redis, prefix, { inventories: 1, devices_inventoried: list.value.length }),
    ]);
    return inventory;
  } catch (err) {
    if (err instanceof GraphError) {
      await onReadFailure(deps, target.user, err);
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

/** Feeds the read pace: 429 → read gate; systemic 5xx/timeouts → slower reads; 4xx about the user → healthy. */
async function onReadFailure(deps: InventoryDeps, user: string, err: GraphError): Promise<void> {
  if (err instanceof GraphThrottledError) {
    await deps.readPacer.onThrottled(err.retryAfterMs, { slowDown: true });
  } else if (err.retryable) {
    await deps.readPacer.onFailure(user, err instanceof GraphTransientError ? err.retryAfterMs : undefined);
  } else if (err instanceof GraphNotFoundError || err instanceof GraphBadRequestError) {
    deps.readPacer.onSuccess(user);
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

/** The proof of one finished retire job: the inventory, the action and where its verification starts. */
export function evidenceRecord(input: {
  jobId: string;
  data: RetireJobData;
  inventory: DeviceInventory;
  outcome: Outcome;
  action?: { at: string; requestId?: string; status: number };
  config: Pick<Config, 'evidence'>;
}): EvidenceRecord {
  const { data, inventory, outcome, action } = input;
  const verify = outcome === 'retired' && action !== undefined && inventory.devices.length > 0;
  const actedAt = action ? Date.parse(action.at) : Date.now();
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
  };
}
