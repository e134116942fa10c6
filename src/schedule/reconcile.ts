// Reconciliation of an entra schedule's pending jobs with Entra: a moved leave date moves the job
// (audited `rescheduled`, cause source_moved), a cleared date or one moved beyond the lookahead
// cancels it (audited `cancelled`, reason source_withdrawn). Only jobs this schedule created are
// touched, and none that anyone else also asked for: a job an API caller or an operator requested
// too (a folded duplicate, an earlier request) is never delayed or cancelled by a sweep.
import type { Job } from 'bullmq';
import { cancelJob, JobNotCancellableError, JobNotFoundError } from '../intake/cancel.js';
import { pendingJobIds } from '../intake/pending.js';
import { rescheduleJob } from '../intake/reschedule.js';
import type { RetireJobData, RetireRecord } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { userHistory } from '../records/audit.js';

export const WITHDRAWN_REASON = 'source_withdrawn';
export const MOVED_CAUSE = 'source_moved';

type RetireJob = Job<RetireJobData, RetireRecord>;

/** A job of this schedule (requestedBy `schedule:<name>`, source `schedule`). */
export function isScheduleJob(data: Partial<RetireJobData> | undefined, actor: string): boolean {
  return data?.requestedBy === actor && data?.source === 'schedule';
}

/** The user's pending job of the schedule's kind (real or dry run), with its state. */
export async function pendingJob(
  ctx: QueueContext,
  user: string,
  dryRun: boolean,
  tenant?: string,
): Promise<{ job: RetireJob; state: string } | null> {
  const ids = await pendingJobIds(ctx, user, tenant);
  const id = dryRun ? ids.dryRun : ids.real;
  const job = id ? ((await ctx.retire.getJob(id)) as RetireJob | undefined) : undefined;
  if (!job?.data?.user) return null;
  return { job, state: await job.getState() };
}

/**
 * Delayed jobs of this schedule due within [fromMs, toMs]. BullMQ scores its delayed set
 * `dueMs * 0x1000 + n` (getDelayedScore.lua), so the range is read straight from the sorted set;
 * each candidate's own effectiveAt then decides, so a differently encoded score cannot widen it.
 */
export async function delayedScheduleJobs(
  ctx: QueueContext,
  actor: string,
  dryRun: boolean,
  fromMs: number,
  toMs: number,
): Promise<RetireJob[]> {
  const key = ctx.retire.keys.delayed as string;
  const min = Math.max(0, fromMs - 1000) * 0x1000;
  const max = (toMs + 1001) * 0x1000 - 1;
  const out: RetireJob[] = [];
  for (let offset = 0; ; offset += 500) {
    const ids = await ctx.redis.zrangebyscore(key, min, max, 'LIMIT', offset, 500);
    const jobs = await Promise.all(ids.map((id) => ctx.retire.getJob(id)));
    for (const job of jobs) {
      if (!job || !isScheduleJob(job.data, actor) || job.data.dryRun !== dryRun) continue;
      const due = Date.parse(job.data.effectiveAt ?? '');
      if (due >= fromMs && due <= toMs) out.push(job as RetireJob);
    }
    if (ids.length < 500) return out;
  }
}

/**
 * Whether anyone but this schedule asked for the job: a request folded into it as a duplicate, or
 * one that brought it forward. Read from the user's audit history (one entry per actor at least).
 */
export async function requestedByOthers(ctx: QueueContext, job: RetireJob, actor: string): Promise<boolean> {
  const history = await userHistory(ctx, job.data.user, 1000);
  return history.some(
    (h) =>
      h.jobId === job.id &&
      h.actor !== actor &&
      (h.type === 'duplicate' || (h.type === 'rescheduled' && h.details?.cause === 'earlier_request')),
  );
}

export interface Move {
  job: RetireJob;
  effectiveAt: string;
  leaveAt: string;
}

/** Moves a job to the leave date's new moment. False when it left the delayed state meanwhile. */
export async function moveJob(ctx: QueueContext, m: Move, actor: string): Promise<boolean> {
  try {
    // A moment already past promotes the job: a date moved into the past means "leave now".
    await rescheduleJob(ctx, m.job.id as string, new Date(m.effectiveAt), actor, { cause: MOVED_CAUSE });
    return true;
  } catch (err) {
    if (err instanceof JobNotCancellableError) return false;
    throw err;
  }
}

/**
 * Cancels a withdrawn leaver's pending job through the one cancel path (cancelJob), audited
 * `cancelled` with reason source_withdrawn. False when a worker took the job meanwhile (BullMQ
 * refuses to remove a locked job) or it is gone.
 */
export async function withdrawJob(
  ctx: QueueContext,
  job: RetireJob,
  actor: string,
  detail: { schedule: string; leaveAt: string | null; allowedBy?: string },
): Promise<boolean> {
  try {
    await cancelJob(ctx, job.id as string, actor, undefined, {
      reason: WITHDRAWN_REASON,
      details: {
        schedule: detail.schedule,
        // null: HR cleared the date; a date: it moved beyond the schedule's lookahead.
        leaveAt: detail.leaveAt,
        // The operator who let a tick withdraw more than GUARD_THRESHOLD leavers at once.
        ...(detail.allowedBy ? { allowedBy: detail.allowedBy } : {}),
      },
    });
    return true;
  } catch (err) {
    if (err instanceof JobNotCancellableError || err instanceof JobNotFoundError) return false;
    throw err;
  }
}
