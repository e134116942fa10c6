// The dead-letter queue: jobs that need a human. Ids are deterministic (`dl-<original id>`), so a
// job moved twice (a crash between "add to DLQ" and "fail the original") is never duplicated.
// Redrive adds the new retire job first and removes the dead letter second: a crash in between
// leaves a duplicate dead letter at worst, never a lost request.
import type { Job } from 'bullmq';
import { enqueue, PENDING_STATES } from '../intake/enqueue.js';
import type { DeadLetterData, DeadLetterReason, RetireJobData } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { isValidId } from '../queue/ids.js';
import { deadLetterId } from '../queue/names.js';
import { appendAudit } from './audit.js';

export class DeadLetterNotFoundError extends Error {
  override readonly name = 'DeadLetterNotFoundError';
  constructor(readonly id: string) {
    super(`no dead letter with id ${id.slice(0, 128)}`);
  }
}

/** The redrive would not leave a job of the dead letter's kind pending: the dead letter is kept. */
export class RedriveNotSettledError extends Error {
  override readonly name = 'RedriveNotSettledError';
  constructor(
    readonly id: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DeadLetterInfo {
  reason: DeadLetterReason;
  lastStatus: number | null;
  graphCode?: string;
  graphMessage?: string;
  requestId?: string;
  attempts: number;
  throttledWaits: number;
  firstAttemptAt?: string;
}

export interface DeadLetterView extends DeadLetterData {
  id: string;
}

/** Adds the dead letter (idempotent) and audits it. Call before failing the original job. */
export async function moveToDeadLetter(
  ctx: QueueContext,
  job: { id?: string; data: RetireJobData },
  info: DeadLetterInfo,
  actor = `worker:${process.pid}`,
): Promise<string> {
  const originalJobId = job.id as string;
  const id = deadLetterId(originalJobId);
  const data: DeadLetterData = {
    original: job.data,
    originalJobId,
    ...info,
    graphMessage: info.graphMessage?.slice(0, 2000),
    deadLetteredAt: new Date().toISOString(),
  };
  await ctx.deadLetter.add('dead-letter', data, { jobId: id, removeOnComplete: false, removeOnFail: false });
  await appendAudit(ctx, {
    type: 'dead-lettered',
    actor,
    at: data.deadLetteredAt,
    jobId: originalJobId,
    user: job.data.user,
    correlationId: job.data.correlationId,
    details: {
      deadLetterId: id,
      reason: info.reason,
      lastStatus: info.lastStatus,
      ...(info.graphCode ? { graphCode: info.graphCode } : {}),
      ...(info.requestId ? { requestId: info.requestId } : {}),
      attempts: info.attempts,
    },
  });
  return id;
}

function view(job: Job<DeadLetterData>): DeadLetterView {
  return { id: job.id as string, ...job.data };
}

export async function getDeadLetter(ctx: QueueContext, id: string): Promise<DeadLetterView> {
  const job = isValidId(id) ? await ctx.deadLetter.getJob(id) : undefined;
  if (!job?.data?.original) throw new DeadLetterNotFoundError(id);
  return view(job);
}

export interface ListDeadLettersOptions {
  reason?: DeadLetterReason;
  /** Default 0. */
  offset?: number;
  /** Default 50, at most 1000. */
  limit?: number;
}

/** Newest first. Filtering by reason scans the queue in pages (dead-letter queues stay small). */
export async function listDeadLetters(
  ctx: QueueContext,
  opts: ListDeadLettersOptions = {},
): Promise<{ items: DeadLetterView[]; total: number }> {
  const offset = Math.max(0, opts.offset ?? 0);
  const limit = Math.min(1000, Math.max(1, opts.limit ?? 50));
  if (!opts.reason) {
    const total = await ctx.deadLetter.getJobCountByTypes('waiting');
    const jobs = await ctx.deadLetter.getJobs(['waiting'], offset, offset + limit - 1, false);
    return { items: jobs.filter((j) => j?.data?.original).map(view), total };
  }
  const matched: DeadLetterView[] = [];
  const page = 1000;
  for (let start = 0; ; start += page) {
    const jobs = await ctx.deadLetter.getJobs(['waiting'], start, start + page - 1, false);
    for (const j of jobs) if (j?.data?.reason === opts.reason) matched.push(view(j));
    if (jobs.length < page) break;
  }
  return { items: matched.slice(offset, offset + limit), total: matched.length };
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
        dryRun: original.dryRun,
        correlationId: original.correlationId,
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
