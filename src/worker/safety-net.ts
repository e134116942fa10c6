// Last resort: a retire job that ended failed without a dead letter (BullMQ's stalled-too-often
// failure, an unexpected error on its last attempt) still gets one, through the processor's own
// dead-letter path, so every request has exactly one recorded outcome.
import type { Job } from 'bullmq';
import { HeldByGuardError } from '../guard/due.js';
import type { RetireJobData, RetireRecord } from '../interfaces.js';
import { deadLetterId } from '../queue/names.js';
import { type DeadLetterDeps, DeadLetteredError, recordDeadLetter } from './dead-letter-step.js';
import { readProgress } from './job-data.js';
import { deadLetterInfo } from './outcome-policy.js';

/** For BullMQ's `failed` event: never throws (a listener's rejection would go unheard). */
export async function ensureRecorded(
  deps: DeadLetterDeps,
  job: Job<RetireJobData, RetireRecord>,
  err: Error,
): Promise<void> {
  const { ctx, logger } = deps;
  // A job the guard held when it became due is recorded as held (its batch), not a dead letter.
  if (err instanceof DeadLetteredError || err instanceof HeldByGuardError || !job.finishedOn || !job.id)
    return;
  try {
    if (await ctx.deadLetter.getJob(deadLetterId(job.id))) return;
    const data = (job.data ?? {}) as RetireJobData;
    const info = deadLetterInfo(readProgress(job.progress), 'retries_exhausted', null, err.message);
    await recordDeadLetter(deps, { id: job.id, data }, info);
    logger.warn({ jobId: job.id, error: err.message }, 'failed job dead-lettered by the safety net');
  } catch (e) {
    logger.error({ err: e, jobId: job.id }, 'could not dead-letter a failed job');
  }
}
