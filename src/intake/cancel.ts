// Cancelling or moving a pending leaver (typically a future-dated one). Only jobs no worker has
// taken yet can change: BullMQ refuses to remove a locked (active) job, so the race with a worker
// picking the job up resolves to "not cancellable", never to a half-cancelled retirement.

import type { Job } from 'bullmq';
import { CataloguedError } from '../errors/catalogued-error.js';
import type { RetireJobData, RetireRecord } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { isValidId } from '../queue/ids.js';
import { appendAudit } from '../records/audit.js';
import { pendingJobIds } from './pending.js';
import { resolveEffectiveAt } from './timezone.js';
import { InvalidUserError, normaliseUser } from './user.js';
import { InvalidRequestError, parseEffectiveAt } from './validate.js';

export class JobNotFoundError extends CataloguedError {
  override readonly name = 'JobNotFoundError';
  readonly errorId = 'OFB_ERR_JOB_NOT_FOUND';
  constructor(
    readonly id: string,
    message = `no offboarding job with id ${id.slice(0, 128)}`,
  ) {
    super(message);
  }
}

/** The job is active, finished or failed: it can no longer be cancelled or moved. */
export class JobNotCancellableError extends CataloguedError {
  override readonly name = 'JobNotCancellableError';
  readonly errorId = 'OFB_ERR_JOB_NOT_CANCELLABLE';
  constructor(
    readonly id: string,
    readonly state: string,
    action = 'cancelled',
  ) {
    super(`job ${id} is ${state}; only a waiting or delayed job can be ${action}`);
  }
}

const CANCELLABLE = new Set(['waiting', 'delayed', 'prioritized', 'paused']);

type RetireJob = Job<RetireJobData, RetireRecord>;

async function load(ctx: QueueContext, id: string): Promise<RetireJob> {
  if (!isValidId(id)) throw new JobNotFoundError(String(id).slice(0, 128));
  const job = await ctx.retire.getJob(id);
  if (!job?.data?.user) throw new JobNotFoundError(id);
  return job;
}

export interface CancelResult {
  id: string;
  user: string;
  state: 'cancelled';
  /** The state the job was in: `waiting` or `delayed` (a future-dated leaver). */
  previousState: string;
}

export interface CancelOptions {
  /**
   * Why, when it is not an operator's own cancel (e.g. `source_withdrawn`: the leave date was cleared
   * in the system the job came from). Recorded as `reason` in the audit entry's details.
   */
  reason?: string;
  /** More context for the audit entry (small, never secrets); cannot replace the fields set here. */
  details?: Record<string, unknown>;
}

/** Removes a waiting or delayed job (and its deduplication key), audited as `cancelled`. */
export async function cancelJob(
  ctx: QueueContext,
  id: string,
  actor: string,
  note?: string,
  opts: CancelOptions = {},
): Promise<CancelResult> {
  const job = await load(ctx, id);
  const state = await job.getState();
  if (!CANCELLABLE.has(state)) throw new JobNotCancellableError(id, state);
  // 0 means a worker holds the lock: it became active between the two calls.
  if ((await ctx.retire.remove(id)) !== 1) throw new JobNotCancellableError(id, 'active');
  await appendAudit(ctx, {
    type: 'cancelled',
    actor,
    at: new Date().toISOString(),
    jobId: id,
    user: job.data.user,
    correlationId: job.data.correlationId,
    details: {
      ...opts.details,
      ...(opts.reason ? { reason: opts.reason } : {}),
      previousState: state,
      ...(note ? { note } : {}),
      ...(job.data.effectiveAt ? { effectiveAt: job.data.effectiveAt } : {}),
      ...(job.data.batchId ? { batchId: job.data.batchId } : {}),
    },
  });
  return { id, user: job.data.user, state: 'cancelled', previousState: state };
}

async function pendingJobId(ctx: QueueContext, user: string): Promise<string> {
  let normalised: string;
  try {
    normalised = normaliseUser(user);
  } catch (err) {
    if (err instanceof InvalidUserError) throw new InvalidRequestError(err.message, 'user');
    throw err;
  }
  // The real pending job first; a pending dry run only when there is no real one.
  const ids = await pendingJobIds(ctx, normalised);
  let id = ids.real && (await ctx.retire.getJob(ids.real)) ? ids.real : null;
  if (!id && ids.dryRun && (await ctx.retire.getJob(ids.dryRun))) id = ids.dryRun;
  if (!id) {
    throw new JobNotFoundError(normalised, `no pending offboarding for ${normalised}`);
  }
  return id;
}

/** Cancels the user's pending job (found through the per-user deduplication key). */
export async function cancelUser(ctx: QueueContext, user: string, actor: string): Promise<CancelResult> {
  return cancelJob(ctx, await pendingJobId(ctx, user), actor);
}

export interface RescheduleResult {
  id: string;
  user: string;
  /** `delayed` when the new moment is ahead, `waiting` when it is now or past (retires at once). */
  state: 'delayed' | 'waiting';
  effectiveAt: string;
  previousEffectiveAt?: string;
}

/**
 * Moves a delayed (future-dated) job to a new leave moment: ISO 8601 with offset, or a date /
 * local time with `opts.tz`. A moment now or in the past promotes the job to run at once.
 */
export async function rescheduleJob(
  ctx: QueueContext,
  id: string,
  effectiveAt: string | Date,
  actor: string,
  opts: {
    tz?: string;
    /** Why, when it is not an operator's own move (e.g. `earlier_request`: a new request brought it forward). */
    cause?: string;
    correlationId?: string;
  } = {},
): Promise<RescheduleResult> {
  const iso = parseEffectiveAt(
    effectiveAt instanceof Date ? effectiveAt : resolveEffectiveAt(effectiveAt, opts.tz),
  );
  const job = await load(ctx, id);
  const state = await job.getState();
  if (state !== 'delayed') throw new JobNotCancellableError(id, state, 'rescheduled');
  const previous = job.data.effectiveAt;
  const delay = Date.parse(iso) - Date.now();
  try {
    if (delay > 0) {
      await job.changeDelay(delay);
      await job.updateData({ ...job.data, effectiveAt: iso });
    } else {
      // Data first: the job may start the moment it is promoted.
      await job.updateData({ ...job.data, effectiveAt: iso });
      await job.promote();
    }
  } catch (err) {
    // BullMQ reports a job that left the delayed set meanwhile as an error; say what happened.
    const now = await job.getState().catch(() => 'unknown');
    if (now !== 'delayed') throw new JobNotCancellableError(id, now, 'rescheduled');
    throw err;
  }
  await appendAudit(ctx, {
    type: 'rescheduled',
    actor,
    at: new Date().toISOString(),
    jobId: id,
    user: job.data.user,
    correlationId: job.data.correlationId,
    details: {
      effectiveAt: iso,
      ...(previous ? { previousEffectiveAt: previous } : {}),
      ...(opts.cause ? { cause: opts.cause } : {}),
      ...(opts.correlationId && opts.correlationId !== job.data.correlationId
        ? { requestCorrelationId: opts.correlationId }
        : {}),
    },
  });
  return {
    id,
    user: job.data.user,
    state: delay > 0 ? 'delayed' : 'waiting',
    effectiveAt: iso,
    ...(previous ? { previousEffectiveAt: previous } : {}),
  };
}

/** Moves the user's pending delayed job (see rescheduleJob). */
export async function rescheduleUser(
  ctx: QueueContext,
  user: string,
  effectiveAt: string | Date,
  actor: string,
  opts: { tz?: string } = {},
): Promise<RescheduleResult> {
  return rescheduleJob(ctx, await pendingJobId(ctx, user), effectiveAt, actor, opts);
}
