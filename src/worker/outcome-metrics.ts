// Time from request to terminal outcome, observed where outcomes become final: BullMQ's local
// `completed` event (retired, dry_run) and `failed` event of a finished job (dead-lettered, by the
// processor or by the safety net). A put-back job (circuit, shutdown) and a retry are not terminal.
import type { Job, Worker } from 'bullmq';
import type { RetireJobData, RetireRecord } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { incrementMetrics, outcomeLatencyFields } from '../records/metrics.js';

/**
 * Seconds from when the job was due to now: its request time, or its leave moment when that is
 * later (a leaver filed a month ahead is not a month of latency). Falls back to BullMQ's timestamp.
 */
export function secondsSinceDue(
  job: Pick<Job<RetireJobData>, 'data' | 'timestamp'>,
  now = Date.now(),
): number {
  const requested = Date.parse(job.data?.requestedAt ?? '');
  const effective = Date.parse(job.data?.effectiveAt ?? '');
  const due = Math.max(
    Number.isFinite(requested) ? requested : job.timestamp,
    Number.isFinite(effective) ? effective : 0,
  );
  return Math.max(0, (now - due) / 1000);
}

/** Attaches the observers; a failed metrics write never affects a job. */
export function observeOutcomes(worker: Worker<RetireJobData, RetireRecord>, ctx: QueueContext): void {
  const observe = (job: Job<RetireJobData, RetireRecord>, outcome: string) => {
    incrementMetrics(ctx.redis, ctx.prefix, outcomeLatencyFields(outcome, secondsSinceDue(job))).catch(
      () => undefined,
    );
  };
  worker.on('completed', (job, record) => observe(job, record?.outcome ?? 'retired'));
  worker.on('failed', (job) => {
    // finishedOn is set only when BullMQ will not retry: the job was dead-lettered.
    if (job?.finishedOn) observe(job, 'dead_lettered');
  });
}
