// The one dead-letter path of a retire job: the dead letter in its queue (audited), the outcome
// notifications, the fleet counter. The processor (a failure with no retry left) and the safety net
// (a job BullMQ failed without us: stalled too often, an unexpected error on its last attempt) both
// record through recordDeadLetter, so the two cannot drift apart again.
import { UnrecoverableError } from 'bullmq';
import type { GraphError } from '../graph/errors.js';
import type { DeadLetterReason, RetireJobData } from '../interfaces.js';
import type { Logger } from '../log.js';
import { emitOutcome, mayNotify } from '../notify/emit.js';
import { deadLetterOutcomeEvent } from '../notify/events.js';
import type { QueueContext } from '../queue/context.js';
import { type DeadLetterInfo, moveToDeadLetter } from '../records/dead-letter.js';
import { incrementMetrics } from '../records/metrics.js';
import type { JobRun } from './attempt.js';
import { deadLetterInfo } from './outcome-policy.js';

export interface DeadLetterDeps {
  ctx: QueueContext;
  actor: string;
  logger: Logger;
}

/** The job was dead-lettered: unrecoverable for BullMQ (no retry), already recorded by us. */
export class DeadLetteredError extends UnrecoverableError {
  constructor(
    readonly reason: DeadLetterReason,
    readonly deadLetterId: string,
  ) {
    super(`dead-lettered: ${reason}`);
  }
}

/** Records the dead letter, tells webhooks and a waiting Lifecycle Workflows run, counts it; its id. */
export async function recordDeadLetter(
  deps: Pick<DeadLetterDeps, 'ctx' | 'actor'>,
  job: { id?: string; data: RetireJobData },
  info: DeadLetterInfo,
): Promise<string> {
  const { ctx } = deps;
  const id = await moveToDeadLetter(ctx, job, info, deps.actor);
  // In Redis before the job fails: a crash now re-emits the same notification ids.
  if (mayNotify(ctx, job.data.callbackUriPath))
    await emitOutcome(ctx, deadLetterOutcomeEvent(job.id, job.data, info));
  await incrementMetrics(ctx.redis, ctx.prefix, { [`dead_letter:${info.reason}`]: 1 });
  return id;
}

/** The processor's dead letter: recorded, logged, then DeadLetteredError fails the job for good. */
export async function deadLetter(
  deps: DeadLetterDeps,
  run: Pick<JobRun, 'job' | 'data' | 'progress'>,
  reason: DeadLetterReason,
  graphErr: GraphError | null,
  message?: string,
): Promise<never> {
  const p = run.progress;
  const info = deadLetterInfo(p, reason, graphErr, message);
  const id = await recordDeadLetter(deps, { id: run.job.id, data: run.data }, info);
  deps.logger.warn(
    {
      jobId: run.job.id,
      user: run.data.user,
      reason,
      lastStatus: graphErr?.status ?? p.lastStatus,
      deadLetterId: id,
    },
    'retire job dead-lettered',
  );
  throw new DeadLetteredError(reason, id);
}
