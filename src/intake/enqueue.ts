// The intake library: where a retire job is written (the front door, src/front-door/front-door.ts,
// for every producer; the guard's approvals; redrive). A returned result means the job is in Redis:
// BullMQ's add resolves after the write.
import { randomUUID } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import type { DevicePolicyScope } from '../device-policy/types.js';
import type { RetireJobData, Source } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import { turnDelaysFor } from '../tenants/turns.js';
import { attachCallback, type CallbackAttachment, type CallbackReason } from './attach-callback.js';
import { JobNotCancellableError } from './cancel.js';
import { pendingKey } from './pending.js';
import { rescheduleJob } from './reschedule.js';
import { InvalidRequestError, type ValidRequest, validateRequest } from './validate.js';

export interface OffboardRequest {
  user: string;
  reason?: string;
  /** ISO 8601 with an offset (`2026-12-01T17:00:00+01:00`) or a Date. Past or absent = now. */
  effectiveAt?: string | Date;
  dryRun?: boolean;
  correlationId?: string;
  /** Lifecycle Workflows resume path (validated by src/values/callback-path.ts). */
  callbackUriPath?: string;
  /** Device policy profile (DEVICE_POLICY_FILE); absent = the policy's default. */
  devicePolicy?: string;
  /** Tenant slug (TENANTS_FILE); the front door resolves and checks it. */
  tenant?: string;
}

export interface IntakeMeta {
  requestedBy: string;
  source: Source;
  /** The submission's tenant (TENANTS_FILE), once the front door resolved it; held batches keep it. */
  tenant?: string;
  /** Tenants the submitter may act for (a scoped API key); absent = every tenant. */
  tenantScope?: readonly string[];
  batchId?: string;
  redrivenFrom?: string;
  /** Which device policy profiles the requester may name (the API's producer keys); absent = any. */
  devicePolicyScope?: DevicePolicyScope;
  /**
   * Profile for the items that name none (a schedule's `devicePolicy`, the CLI's `--device-policy`);
   * absent = the policy's default. Resolved per item at the front door.
   */
  devicePolicy?: string;
}

export interface EnqueueResult {
  /** The job that will actually run: the new one, or the pending job a duplicate folded into. */
  id: string;
  user: string;
  /** `waiting` or `delayed` for a new job; the existing job's state for a duplicate. */
  state: string;
  duplicate: boolean;
  /** When the job that will run is due (absent: at once). */
  effectiveAt?: string;
  /** A duplicate whose pending job was due later and now runs at this request's moment. */
  broughtForward?: boolean;
  /** A duplicate that carried a callback: whether the pending job will resume it too, and why. */
  callbackAttached?: boolean;
  callbackReason?: CallbackReason;
  /**
   * With DEVICE_POLICY_FILE: the profile the job that will run applies. For a duplicate that is the
   * pending job's profile (the first request's profile is kept); `requestedDevicePolicy` then names
   * the one this request asked for when it differs.
   */
  devicePolicy?: string;
  requestedDevicePolicy?: string;
}

export type BulkItemResult =
  | ({ index: number; status: 'accepted' | 'duplicate' } & EnqueueResult)
  | { index: number; status: 'invalid'; user?: string; error: string };

export function retireJobOptions(ctx: QueueContext, jobId: string, data: RetireJobData): JobsOptions {
  const { worker } = ctx.config;
  const delay = data.effectiveAt ? Math.max(0, Date.parse(data.effectiveAt) - Date.now()) : 0;
  return {
    jobId,
    // At most one pending job per user and kind: BullMQ keeps the key until the job completes or fails.
    deduplication: { id: pendingKey(data.user, data.dryRun, data.tenant) },
    attempts: worker.attempts,
    backoff: { type: 'offboard' },
    delay: delay > 0 ? delay : undefined,
    // Retention (RETAIN_COMPLETED*, RETAIN_FAILED) is applied by the worker (src/worker/retire-worker.ts),
    // not stored in each job's options: about 100 B less per pending job.
  };
}

function policyDefault(ctx: QueueContext): string | undefined {
  return ctx.config.devicePolicy?.default;
}

/** A tenant's turn (ms from now) as the job's delay; 0 or none leaves the options as they are. */
function withTurn(opts: JobsOptions, turnMs: number | undefined): JobsOptions {
  return turnMs ? { ...opts, delay: Math.max(opts.delay ?? 0, turnMs) } : opts;
}

function buildData(req: ValidRequest, meta: IntakeMeta, ctx: QueueContext): RetireJobData {
  const data: RetireJobData = {
    user: req.user,
    dryRun: ctx.config.worker.dryRun || req.dryRun === true,
    correlationId: req.correlationId ?? randomUUID(),
    requestedBy: meta.requestedBy,
    requestedAt: new Date().toISOString(),
    source: meta.source,
  };
  if (req.reason !== undefined) data.reason = req.reason;
  if (req.effectiveAt !== undefined) data.effectiveAt = req.effectiveAt;
  if (meta.batchId) data.batchId = meta.batchId;
  if (meta.redrivenFrom) data.redrivenFrom = meta.redrivenFrom;
  if (req.callbackUriPath) data.callbackUriPath = req.callbackUriPath;
  // Stored resolved (the front door resolved it already; internal paths get the default here), so a
  // later change of the policy's default does not alter queued jobs. No policy file: no field.
  const profile = req.devicePolicy ?? policyDefault(ctx);
  if (profile) data.devicePolicy = profile;
  if (req.tenant) data.tenant = req.tenant;
  return data;
}

/**
 * Enqueue one leaver. Throws InvalidRequestError for bad input (nothing is written). Producers come
 * through the front door (src/front-door/front-door.ts), which validates once and calls
 * enqueueValid; this is for internal re-creations (redrive) and tests.
 */
export async function enqueue(
  ctx: QueueContext,
  request: OffboardRequest,
  meta: IntakeMeta,
): Promise<EnqueueResult> {
  return enqueueValid(ctx, validateRequest(request), meta);
}

/** Enqueue one leaver whose request validateRequest has accepted already. */
export async function enqueueValid(
  ctx: QueueContext,
  req: ValidRequest,
  meta: IntakeMeta,
): Promise<EnqueueResult> {
  const data = buildData(req, meta, ctx);
  const id = randomUUID();
  const opts = withTurn(retireJobOptions(ctx, id, data), (await turnDelaysFor(ctx, [data]))[0]);
  const job = await ctx.retire.add('retire', data, opts);
  if (job.id !== id) {
    const settled = await settleDuplicate(ctx, job.id as string, data, meta);
    return { id: job.id as string, user: data.user, duplicate: true, ...settled };
  }
  await appendAudit(ctx, requestedEntry(id, data));
  return {
    id,
    user: data.user,
    state: opts.delay ? 'delayed' : 'waiting',
    duplicate: false,
    effectiveAt: data.effectiveAt,
    ...(data.devicePolicy ? { devicePolicy: data.devicePolicy } : {}),
  };
}

/** How long one actor's repeats of a pending job are folded into one `duplicate` audit entry. */
export const DUPLICATE_AUDIT_COALESCE_MS = 3_600_000;

/** Job states in which a job will still run (or is running). */
export const PENDING_STATES: ReadonlySet<string> = new Set([
  'waiting',
  'delayed',
  'prioritized',
  'paused',
  'waiting-children',
  'active',
]);

/**
 * A request that folded into a pending job of the same user and kind: an earlier moment brings the
 * pending job forward (audited `rescheduled`), a later one leaves it as it is. Repeats are audited
 * once per actor and job per DUPLICATE_AUDIT_COALESCE_MS, so a producer cannot roll the capped audit
 * stream over by resubmitting. Returns what the caller answers: the state and moment of the job that
 * will run.
 */
async function settleDuplicate(
  ctx: QueueContext,
  jobId: string,
  data: RetireJobData,
  meta: IntakeMeta,
): Promise<Settled> {
  const job = await ctx.retire.getJob(jobId);
  let state: string = job ? await job.getState() : 'unknown';
  let effectiveAt: string | undefined = job?.data?.effectiveAt;
  let broughtForward = false;
  const wanted = data.effectiveAt ? Date.parse(data.effectiveAt) : Date.now();
  const due = effectiveAt ? Date.parse(effectiveAt) : 0;
  if (job && state === 'delayed' && wanted < due) {
    try {
      const moved = await rescheduleJob(
        ctx,
        jobId,
        new Date(Math.max(wanted, Date.now())),
        meta.requestedBy,
        {
          cause: 'earlier_request',
          correlationId: data.correlationId,
        },
      );
      state = moved.state;
      effectiveAt = moved.effectiveAt;
      broughtForward = true;
    } catch (err) {
      // It left the delayed set meanwhile (a worker took it): it runs now, which is earlier still.
      if (!(err instanceof JobNotCancellableError)) throw err;
      state = err.state;
    }
  }
  const callback = data.callbackUriPath ? await attachCallback(ctx, jobId, data.callbackUriPath) : undefined;
  const first = await ctx.redis.set(
    `${keys.duplicateSeen(ctx.prefix, jobId)}:${meta.requestedBy}`,
    '1',
    'PX',
    DUPLICATE_AUDIT_COALESCE_MS,
    'NX',
  );
  if (first === 'OK' && !broughtForward) {
    await appendAudit(ctx, {
      type: 'duplicate',
      actor: meta.requestedBy,
      at: new Date().toISOString(),
      jobId,
      user: data.user,
      correlationId: data.correlationId,
      details: {
        source: meta.source,
        ...(data.tenant ? { tenant: data.tenant } : {}),
        ...(meta.batchId ? { batchId: meta.batchId } : {}),
        ...(callback ? callback : {}),
        ...(data.devicePolicy && job?.data?.devicePolicy && data.devicePolicy !== job.data.devicePolicy
          ? { devicePolicy: job.data.devicePolicy, requestedDevicePolicy: data.devicePolicy }
          : {}),
        coalesceMs: DUPLICATE_AUDIT_COALESCE_MS,
      },
    });
  }
  return {
    state,
    ...(effectiveAt ? { effectiveAt } : {}),
    ...(broughtForward ? { broughtForward } : {}),
    ...(callback ?? {}),
    ...profileOfDuplicate(job?.data?.devicePolicy, data.devicePolicy),
  };
}

/**
 * A duplicate keeps the pending job's profile (the first request wins, as for every other field but
 * an earlier moment): the answer names it, and the one asked for when it differs. To change it,
 * cancel the pending job and submit again.
 */
function profileOfDuplicate(
  pending: string | undefined,
  requested: string | undefined,
): Pick<EnqueueResult, 'devicePolicy' | 'requestedDevicePolicy'> {
  if (!pending) return {};
  return {
    devicePolicy: pending,
    ...(requested && requested !== pending ? { requestedDevicePolicy: requested } : {}),
  };
}

type Settled = Pick<
  EnqueueResult,
  'state' | 'effectiveAt' | 'broughtForward' | 'devicePolicy' | 'requestedDevicePolicy'
> &
  Partial<CallbackAttachment>;

function requestedEntry(id: string, data: RetireJobData) {
  return {
    type: 'requested' as const,
    actor: data.requestedBy,
    at: data.requestedAt,
    jobId: id,
    user: data.user,
    correlationId: data.correlationId,
    details: {
      source: data.source,
      ...(data.effectiveAt ? { effectiveAt: data.effectiveAt } : {}),
      ...(data.dryRun ? { dryRun: true } : {}),
      ...(data.batchId ? { batchId: data.batchId } : {}),
      ...(data.redrivenFrom ? { redrivenFrom: data.redrivenFrom } : {}),
      ...(data.callbackUriPath ? { lifecycleCallback: true } : {}),
      ...(data.devicePolicy ? { devicePolicy: data.devicePolicy } : {}),
      ...(data.tenant ? { tenant: data.tenant } : {}),
    },
  };
}

export interface EnqueueManyOptions {
  /** Jobs per addBulk round trip. Default 1000. */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Enqueue many leavers: invalid items are reported and never block valid ones; duplicates
 * (within the list or against pending jobs) come back marked. One addBulk round trip per chunk.
 */
export async function enqueueMany(
  ctx: QueueContext,
  requests: readonly unknown[],
  meta: IntakeMeta,
  opts: EnqueueManyOptions = {},
): Promise<BulkItemResult[]> {
  const chunkSize = opts.chunkSize ?? 1000;
  const results: BulkItemResult[] = new Array(requests.length);
  const firstIndexByUser = new Map<string, number>();
  const valid: { index: number; id: string; data: RetireJobData }[] = [];
  /** Repeats of a user within the list that bring a callback: attached once the first is written. */
  const listCallbacks = new Map<number, string>();
  requests.forEach((raw, index) => {
    try {
      const req = validateRequest(raw as OffboardRequest);
      const data = buildData(req, meta, ctx);
      if (firstIndexByUser.has(data.user)) {
        // Resolved after the write, when the first occurrence's id is known.
        results[index] = {
          index,
          status: 'duplicate',
          id: '',
          user: data.user,
          state: 'pending',
          duplicate: true,
        };
        if (data.callbackUriPath) listCallbacks.set(index, data.callbackUriPath);
        return;
      }
      firstIndexByUser.set(data.user, index);
      valid.push({ index, id: randomUUID(), data });
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      const user =
        typeof (raw as OffboardRequest)?.user === 'string' ? (raw as OffboardRequest).user : undefined;
      results[index] = { index, status: 'invalid', user: user?.slice(0, 200), error: err.message };
    }
  });
  let done = 0;
  for (let i = 0; i < valid.length; i += chunkSize) {
    const chunk = valid.slice(i, i + chunkSize);
    // Many tenants: each tenant's jobs spread at its pace (src/tenants/turns.ts); else all 0, no call.
    const turns = await turnDelaysFor(
      ctx,
      chunk.map((v) => v.data),
    );
    const jobs = await ctx.retire.addBulk(
      chunk.map((v, k) => ({
        name: 'retire',
        data: v.data,
        opts: withTurn(retireJobOptions(ctx, v.id, v.data), turns[k]),
      })),
    );
    const audit = [];
    const duplicates: Promise<void>[] = [];
    for (const [k, v] of chunk.entries()) {
      const gotId = jobs[k]?.id as string;
      const duplicate = gotId !== v.id;
      const delayed =
        (!!v.data.effectiveAt && Date.parse(v.data.effectiveAt) > Date.now()) || (turns[k] ?? 0) > 0;
      const result: BulkItemResult = {
        index: v.index,
        status: duplicate ? 'duplicate' : 'accepted',
        id: gotId,
        user: v.data.user,
        state: duplicate ? 'pending' : delayed ? 'delayed' : 'waiting',
        duplicate,
        effectiveAt: v.data.effectiveAt,
        ...(v.data.devicePolicy ? { devicePolicy: v.data.devicePolicy } : {}),
      };
      results[v.index] = result;
      if (!duplicate) audit.push(requestedEntry(gotId, v.data));
      else {
        // The answer names the pending job that will run and when (brought forward if need be).
        duplicates.push(
          settleDuplicate(ctx, gotId, v.data, meta).then((settled) => {
            Object.assign(result, settled);
            if (!settled.effectiveAt) delete result.effectiveAt;
          }),
        );
      }
    }
    await appendAudit(ctx, audit);
    await Promise.all(duplicates);
    done += chunk.length;
    opts.onProgress?.(done, valid.length);
  }
  for (const r of results) {
    if (r?.status === 'duplicate' && r.id === '') {
      const first = results[firstIndexByUser.get(r.user) as number];
      if (first && first.status !== 'invalid') r.id = first.id;
    }
  }
  for (const [index, path] of listCallbacks) {
    const r = results[index];
    if (r?.status === 'duplicate' && r.id) Object.assign(r, await attachCallback(ctx, r.id, path));
  }
  return results;
}
