// Cancelling a pending leaver (typically a future-dated one; moving one is reschedule.ts). Only jobs no worker has
// taken yet can change: BullMQ refuses to remove a locked (active) job, so the race with a worker
// picking the job up resolves to "not cancellable", never to a half-cancelled retirement.

import type { Job } from 'bullmq';
import { CataloguedError } from '../errors/catalogued-error.js';
import type { RetireJobData, RetireRecord } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { isValidId } from '../queue/ids.js';
import { appendAudit } from '../records/audit.js';
import { InvalidUserError, normaliseUser } from '../values/user.js';
import { pendingJobIds } from './pending.js';
import { InvalidRequestError } from './validate.js';

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

export async function loadJob(ctx: QueueContext, id: string): Promise<RetireJob> {
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
  const job = await loadJob(ctx, id);
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

/** The user's pending job: the real one first, a pending dry run only when there is no real one. */
export async function pendingJobId(ctx: QueueContext, user: string, tenant?: string): Promise<string> {
  let normalised: string;
  try {
    normalised = normaliseUser(user);
  } catch (err) {
    if (err instanceof InvalidUserError) throw new InvalidRequestError(err.message, 'user');
    throw err;
  }
  // The real pending job first; a pending dry run only when there is no real one.
  const ids = await pendingJobIds(ctx, normalised, tenant);
  let id = ids.real && (await ctx.retire.getJob(ids.real)) ? ids.real : null;
  if (!id && ids.dryRun && (await ctx.retire.getJob(ids.dryRun))) id = ids.dryRun;
  if (!id) {
    throw new JobNotFoundError(normalised, `no pending offboarding for ${normalised}`);
  }
  return id;
}

/** Cancels the user's pending job (found through the per-user deduplication key). */
export async function cancelUser(
  ctx: QueueContext,
  user: string,
  actor: string,
  tenant?: string,
): Promise<CancelResult> {
  return cancelJob(ctx, await pendingJobId(ctx, user, tenant), actor);
}
