// Redrive and discard: an operator's answer to a dead letter. Redrive creates a retire job through
// the same intake path as any request; it adds the new job first and removes the dead letter
// second, so a crash in between leaves a duplicate dead letter at worst, never a lost request.
// Discard ends the dead letter with an audit entry.
import { CataloguedError } from '../errors/catalogued-error.js';

import type { QueueContext } from '../queue/context.js';
import { isValidId } from '../queue/ids.js';
import { appendAudit } from '../records/audit.js';
import { DeadLetterNotFoundError } from '../records/dead-letter.js';
import { enqueue, PENDING_STATES } from './enqueue.js';

/** The redrive would not leave a job of the dead letter's kind pending: the dead letter is kept. */
export class RedriveNotSettledError extends CataloguedError {
  override readonly name = 'RedriveNotSettledError';
  readonly errorId = 'OFB_ERR_REDRIVE_NOT_SETTLED';
  constructor(
    readonly id: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RedriveResult {
  deadLetterId: string;
  /** The new (or already pending) retire job. */
  jobId: string;
  duplicate: boolean;
}

export async function redriveDeadLetter(
  ctx: QueueContext,
  id: string,
  actor: string,
): Promise<RedriveResult> {
  const job = isValidId(id) ? await ctx.deadLetter.getJob(id) : undefined;
  if (!job?.data?.original) throw new DeadLetterNotFoundError(id);
  const { original } = job.data;
  if (ctx.config.worker.dryRun && !original.dryRun) {
    throw new RedriveNotSettledError(
      id,
      `DRY_RUN is on: redriving ${id} would only run a dry run of a real request; the dead letter is kept`,
    );
  }
  // The dead letter goes only once a job of its kind for this user is pending: the new one, or a
  // pending one it folded into (brought forward if it was due later). A duplicate that finished
  // between the add and the check is not that: add again (its deduplication key is gone by then).
  let result: Awaited<ReturnType<typeof enqueue>> | undefined;
  for (let tries = 0; tries < 3 && !result; tries++) {
    const r = await enqueue(
      ctx,
      {
        user: original.user,
        ...(original.reason ? { reason: original.reason } : {}),
        // The profile the leaver was planned with stays, whatever the policy's default is now.
        ...(original.devicePolicy ? { devicePolicy: original.devicePolicy } : {}),
        dryRun: original.dryRun,
        correlationId: original.correlationId,
        // The redriven job stays with its tenant (and its deduplication key with it).
        ...(original.tenant ? { tenant: original.tenant } : {}),
      },
      {
        requestedBy: actor,
        source: 'redrive',
        redrivenFrom: id,
        ...(original.batchId ? { batchId: original.batchId } : {}),
      },
    );
    const pending = await ctx.retire.getJob(r.id);
    const state = pending ? await pending.getState() : 'missing';
    if (pending?.data?.dryRun === original.dryRun && PENDING_STATES.has(state)) result = r;
  }
  if (!result) {
    throw new RedriveNotSettledError(
      id,
      `no pending job for ${original.user} after redriving ${id}; the dead letter is kept`,
    );
  }
  await job.remove();
  await appendAudit(ctx, {
    type: 'redriven',
    actor,
    at: new Date().toISOString(),
    jobId: result.id,
    user: original.user,
    correlationId: original.correlationId,
    details: { deadLetterId: id, originalJobId: job.data.originalJobId, duplicate: result.duplicate },
  });
  return { deadLetterId: id, jobId: result.id, duplicate: result.duplicate };
}

export async function discardDeadLetter(
  ctx: QueueContext,
  id: string,
  actor: string,
  note?: string,
): Promise<{ deadLetterId: string }> {
  const job = isValidId(id) ? await ctx.deadLetter.getJob(id) : undefined;
  if (!job?.data?.original) throw new DeadLetterNotFoundError(id);
  // Audit first: if the removal fails the trail says what was intended, and a retry is harmless.
  await appendAudit(ctx, {
    type: 'discarded',
    actor,
    at: new Date().toISOString(),
    jobId: job.data.originalJobId,
    user: job.data.original.user,
    correlationId: job.data.original.correlationId,
    details: { deadLetterId: id, reason: job.data.reason, ...(note ? { note: note.slice(0, 500) } : {}) },
  });
  await job.remove();
  return { deadLetterId: id };
}
