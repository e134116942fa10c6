// Moving a pending (delayed) leaver to another leave moment: an operator's `offboard reschedule`,
// a sweep whose source moved the date, or a new request for an earlier moment (enqueue.ts brings
// the pending job forward). Same rule as cancelling: only a job no worker has taken can move.
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { resolveEffectiveAt } from '../values/timezone.js';
import { JobNotCancellableError, loadJob, pendingJobId } from './cancel.js';
import { parseEffectiveAt } from './validate.js';

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
  const job = await loadJob(ctx, id);
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
  opts: { tz?: string; tenant?: string } = {},
): Promise<RescheduleResult> {
  const { tenant, ...rest } = opts;
  return rescheduleJob(ctx, await pendingJobId(ctx, user, tenant), effectiveAt, actor, rest);
}
