// The dead-letter queue: jobs that need a human. Ids are deterministic (`dl-<original id>`), so a
// job moved twice (a crash between "add to DLQ" and "fail the original") is never duplicated.
// This file moves jobs in and reads them; redrive and discard create or end jobs, so they live
// with intake (src/intake/redrive.ts).

import type { Job } from 'bullmq';
import { CataloguedError } from '../errors/catalogued-error.js';
import type { DeadLetterData, DeadLetterReason, DeviceActionResult, RetireJobData } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { isValidId } from '../queue/ids.js';
import { deadLetterId } from '../queue/names.js';
import { appendAudit } from './audit.js';

export class DeadLetterNotFoundError extends CataloguedError {
  override readonly name = 'DeadLetterNotFoundError';
  readonly errorId = 'OFB_ERR_DEAD_LETTER_NOT_FOUND';
  constructor(readonly id: string) {
    super(`no dead letter with id ${id.slice(0, 128)}`);
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
  /** Reason `partial`: every device × action's result, and the devices that failed. */
  deviceActions?: DeviceActionResult[];
  failedDevices?: string[];
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
  /** Only dead letters of these tenants (a tenant-scoped key); absent = every one. */
  tenants?: readonly string[];
}

/** Newest first. Filtering by reason scans the queue in pages (dead-letter queues stay small). */
export async function listDeadLetters(
  ctx: QueueContext,
  opts: ListDeadLettersOptions = {},
): Promise<{ items: DeadLetterView[]; total: number }> {
  const offset = Math.max(0, opts.offset ?? 0);
  const limit = Math.min(1000, Math.max(1, opts.limit ?? 50));
  const { tenants } = opts;
  if (!opts.reason && !tenants) {
    const total = await ctx.deadLetter.getJobCountByTypes('waiting');
    const jobs = await ctx.deadLetter.getJobs(['waiting'], offset, offset + limit - 1, false);
    return { items: jobs.filter((j) => j?.data?.original).map(view), total };
  }
  const matched: DeadLetterView[] = [];
  const page = 1000;
  for (let start = 0; ; start += page) {
    const jobs = await ctx.deadLetter.getJobs(['waiting'], start, start + page - 1, false);
    for (const j of jobs) {
      if (!j?.data?.original) continue;
      if (opts.reason && j.data.reason !== opts.reason) continue;
      const tenant = j.data.original.tenant;
      if (tenants && !(tenant && tenants.includes(tenant))) continue;
      matched.push(view(j));
    }
    if (jobs.length < page) break;
  }
  return { items: matched.slice(offset, offset + limit), total: matched.length };
}
