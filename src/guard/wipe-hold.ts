// The guard for wipes and deletes (issue 21): devices, not leavers, are counted. Within GUARD_WINDOW
// at most GUARD_WIPE_THRESHOLD (default 10) distinct devices are admitted for a wipe or a delete
// without an approval, in total and independently of GUARD_THRESHOLD (a layoff of five people with
// three laptops each passes the leaver guard and still wipes fifteen devices). The worker asks here
// after planning a leaver's devices and before any write.
//
// Past the limit the job is held the way a job held when due is (./due.ts): its leaver waits in the
// submitter's open wipe batch, an ordinary held batch (`kind: wipe`) whose items list each device
// with its actions, so `batches show`, GET /v1/batches/{id}/items and the console show devices ×
// actions. The job itself ends at once as failed (HeldForWipeApprovalError, never a dead letter).
// Approving the batch (two-person rule as for any batch) enqueues a new job for the leaver with the
// batch's id: its approved devices are admitted without counting, devices enrolled since are counted
// as usual. Rejecting (or expiry) enqueues nothing: the leaver's devices are left alone (audited).
import { DelayedError, type Job } from 'bullmq';
import type { ValidRequest } from '../intake/validate.js';
import type { DevicePlan, RetireJobData } from '../interfaces.js';
import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { keys, ownKey } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import { normaliseActor } from './actor.js';
import { HeldByGuardError } from './due.js';
import { HeldLimitError } from './errors.js';
import { holdStaging, openStaging, stageChunk } from './staging.js';
import { readBatch } from './store.js';
import { appendToWindowBatch, openWindowBatch } from './window-batch.js';

/** GUARD_WIPE_THRESHOLD's default. */
export const DEFAULT_WIPE_THRESHOLD = 10;

/**
 * The job's leaver waits for approval in wipe batch `batchId`. A HeldByGuardError: the worker ends
 * the job as it ends one held when due (failed, not dead-lettered).
 */
export class HeldForWipeApprovalError extends HeldByGuardError {
  /** Tells it apart from a hold when due (its `name` stays HeldByGuardError's, which callers read). */
  readonly heldBecause = 'wipe';
  constructor(
    batchId: string,
    readonly devices: number,
  ) {
    super(batchId);
    this.message = `held by the guard: ${devices} device(s) to wipe or delete would pass GUARD_WIPE_THRESHOLD within GUARD_WINDOW; the leaver waits for approval in batch ${batchId}`;
  }
}

/** Devices admitted for a wipe or delete without approval (device id → when). */
export function wipeWindowKey(prefix: string): string {
  return ownKey(prefix, 'guard-wipe', 'window');
}

/** The submitter's open wipe batch (its id): held leavers gather in one batch to review. */
export function openWipeBatchKey(prefix: string, actor: string): string {
  return ownKey(prefix, 'guard-wipe', 'open-batch', normaliseActor(actor));
}

/** Per wipe batch: user → JSON list of the device ids held for it (what an approval covers). */
export function wipeDevicesKey(prefix: string, batchId: string): string {
  return ownKey(prefix, 'guard-wipe', 'devices', batchId);
}

/** The device ids of a plan that a wipe or a delete would touch. */
export function wipedDevices(plans: readonly DevicePlan[]): string[] {
  const ids = plans
    .filter((p) => p.actions.some((a) => a.action === 'wipe' || a.action === 'delete'))
    .map((p) => p.deviceId);
  return [...new Set(ids)];
}

/** Devices an approval of the job's wipe batch covers (empty when it came from no approved one). */
async function approvedDevices(ctx: QueueContext, data: RetireJobData): Promise<Set<string>> {
  if (!data.batchId || data.redrivenFrom) return new Set();
  const b = await readBatch(ctx, data.batchId);
  if (b?.kind !== 'wipe' || (b.state !== 'approved' && b.state !== 'approving')) return new Set();
  const raw = await ctx.redis.hget(wipeDevicesKey(ctx.prefix, data.batchId), data.user);
  try {
    return new Set(raw ? (JSON.parse(raw) as string[]) : []);
  } catch {
    return new Set();
  }
}

/**
 * Returns when the job may go on to its device actions (counting its devices to wipe or delete in
 * the window). Otherwise holds its leaver for approval and throws HeldForWipeApprovalError, or, when
 * a cap on held items leaves no room, puts the job back for one GUARD_WINDOW (DelayedError). Dry
 * runs wipe nothing and are not counted.
 */
export async function holdIfOverWipeThreshold(
  ctx: QueueContext,
  job: Job<RetireJobData, unknown>,
  data: RetireJobData,
  plans: DevicePlan[],
  token?: string,
): Promise<void> {
  if (data.dryRun || ctx.config.worker.dryRun || !job.id) return;
  const wiped = wipedDevices(plans);
  if (wiped.length === 0) return;
  const approved = await approvedDevices(ctx, data);
  const counted = wiped.filter((id) => !approved.has(id));
  if (counted.length === 0) return;
  const { windowMs } = ctx.config.guard;
  const threshold = ctx.config.guard.wipeThreshold ?? DEFAULT_WIPE_THRESHOLD;
  const now = Date.now();
  const verdict = (await runScript(
    ctx.redis,
    'guard/wipe-admit',
    [wipeWindowKey(ctx.prefix)],
    [now, windowMs, threshold, ...counted],
  )) as [string, number, number?];
  if (verdict[0] !== 'hold') return;
  let batchId: string;
  try {
    batchId = await hold(ctx, job.id, data, plans, wiped.length, verdict[1]);
  } catch (err) {
    if (!(err instanceof HeldLimitError)) throw err;
    await job.moveToDelayed(now + windowMs, token);
    throw new DelayedError();
  }
  throw new HeldForWipeApprovalError(batchId, wiped.length);
}

async function hold(
  ctx: QueueContext,
  jobId: string,
  data: RetireJobData,
  plans: DevicePlan[],
  devices: number,
  inWindow: number,
): Promise<string> {
  const r: ValidRequest = { user: data.user, correlationId: data.correlationId };
  if (data.reason) r.reason = data.reason;
  if (data.callbackUriPath) r.callbackUriPath = data.callbackUriPath;
  if (data.devicePolicy) r.devicePolicy = data.devicePolicy;
  const item = { n: 0, r, devices: plans };
  const openKey = openWipeBatchKey(ctx.prefix, data.requestedBy);
  const details = {
    source: data.source,
    submittedBy: data.requestedBy,
    heldBecause: 'wipe',
    devices,
    devicesInWindow: inWindow,
    wipeThreshold: ctx.config.guard.wipeThreshold ?? DEFAULT_WIPE_THRESHOLD,
    windowMs: ctx.config.guard.windowMs,
    ...(data.devicePolicy ? { devicePolicy: data.devicePolicy } : {}),
  };
  const joined = await appendToWindowBatch(ctx, data.requestedBy, item, openKey);
  if (joined) {
    if (joined.added) {
      await noteDevices(ctx, joined.id, data.user, plans, devices);
      const batch = await readBatch(ctx, joined.id);
      await appendAudit(ctx, {
        type: 'held',
        actor: 'guard',
        at: new Date().toISOString(),
        jobId,
        user: data.user,
        correlationId: data.correlationId,
        details: {
          batchId: joined.id,
          joined: true,
          ...details,
          ...(batch ? { count: batch.count, version: batch.version } : {}),
        },
      });
    }
    return joined.id;
  }
  const st = openStaging();
  await stageChunk(ctx, st, [item], { keepItems: true });
  const batch = await holdStaging(ctx, st, {
    meta: { requestedBy: data.requestedBy, source: data.source },
    invalid: 0,
    admission: { admitted: false, cause: 'wipe', actorCount: 1, totalCount: 1 },
    jobId,
    kind: 'wipe',
    devices,
    auditDetails: {
      devicesInWindow: inWindow,
      ...(data.devicePolicy ? { devicePolicy: data.devicePolicy } : {}),
    },
  });
  await noteDevices(ctx, batch.id, data.user, plans, 0);
  await openWindowBatch(ctx, data.requestedBy, batch.id, data.user, data.tenant, openKey);
  return batch.id;
}

/** Records what an approval covers; `add` devices more on the batch's count (a joined leaver). */
async function noteDevices(
  ctx: QueueContext,
  batchId: string,
  user: string,
  plans: DevicePlan[],
  add: number,
): Promise<void> {
  const key = wipeDevicesKey(ctx.prefix, batchId);
  const batchKey = keys.batch(ctx.prefix, batchId);
  const m = ctx.redis
    .multi()
    .hset(key, user, JSON.stringify(wipedDevices(plans)))
    .pexpire(key, ctx.config.guard.ttlMs + ctx.config.retention.completedAgeMs);
  if (add > 0) m.hincrby(batchKey, 'devices', add);
  await m.exec();
}
