// The intake library: the only way a retire job is created (API, CLI, import, schedules, redrive).
// A returned result means the job is in Redis: BullMQ's add resolves after the write.
import { randomUUID } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import type { RetireJobData, Source } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { InvalidRequestError, validateRequest } from './validate.js';

export interface OffboardRequest {
  user: string;
  reason?: string;
  /** ISO 8601 with an offset (`2026-12-01T17:00:00+01:00`) or a Date. Past or absent = now. */
  effectiveAt?: string | Date;
  dryRun?: boolean;
  correlationId?: string;
}

export interface IntakeMeta {
  requestedBy: string;
  source: Source;
  batchId?: string;
  redrivenFrom?: string;
}

export interface EnqueueResult {
  id: string;
  user: string;
  /** `waiting` or `delayed` for a new job; the existing job's state for a duplicate. */
  state: string;
  duplicate: boolean;
  effectiveAt?: string;
}

export type BulkItemResult =
  | ({ index: number; status: 'accepted' | 'duplicate' } & EnqueueResult)
  | { index: number; status: 'invalid'; user?: string; error: string };

export function retireJobOptions(ctx: QueueContext, jobId: string, data: RetireJobData): JobsOptions {
  const { retention, worker } = ctx.config;
  const delay = data.effectiveAt ? Math.max(0, Date.parse(data.effectiveAt) - Date.now()) : 0;
  return {
    jobId,
    // At most one pending job per user: BullMQ keeps the key until the job completes or fails.
    deduplication: { id: data.user },
    attempts: worker.attempts,
    backoff: { type: 'offboard' },
    delay: delay > 0 ? delay : undefined,
    removeOnComplete: { age: Math.ceil(retention.completedAgeMs / 1000), count: retention.completedCount },
    removeOnFail: { age: Math.ceil(retention.failedAgeMs / 1000) },
  };
}

function buildData(
  req: ReturnType<typeof validateRequest>,
  meta: IntakeMeta,
  globalDryRun: boolean,
): RetireJobData {
  const data: RetireJobData = {
    user: req.user,
    dryRun: globalDryRun || req.dryRun === true,
    correlationId: req.correlationId ?? randomUUID(),
    requestedBy: meta.requestedBy,
    requestedAt: new Date().toISOString(),
    source: meta.source,
  };
  if (req.reason !== undefined) data.reason = req.reason;
  if (req.effectiveAt !== undefined) data.effectiveAt = req.effectiveAt;
  if (meta.batchId) data.batchId = meta.batchId;
  if (meta.redrivenFrom) data.redrivenFrom = meta.redrivenFrom;
  return data;
}

/** Enqueue one leaver. Throws InvalidRequestError for bad input (nothing is written). */
export async function enqueue(
  ctx: QueueContext,
  request: OffboardRequest,
  meta: IntakeMeta,
): Promise<EnqueueResult> {
  const req = validateRequest(request);
  const data = buildData(req, meta, ctx.config.worker.dryRun);
  const id = randomUUID();
  const opts = retireJobOptions(ctx, id, data);
  const job = await ctx.retire.add('retire', data, opts);
  if (job.id !== id) {
    const state = await ctx.retire.getJobState(job.id as string);
    await appendAudit(ctx, {
      type: 'duplicate',
      actor: meta.requestedBy,
      at: new Date().toISOString(),
      jobId: job.id,
      user: data.user,
      correlationId: data.correlationId,
      details: { source: meta.source },
    });
    return { id: job.id as string, user: data.user, state, duplicate: true };
  }
  await appendAudit(ctx, requestedEntry(id, data));
  return {
    id,
    user: data.user,
    state: opts.delay ? 'delayed' : 'waiting',
    duplicate: false,
    effectiveAt: data.effectiveAt,
  };
}

function requestedEntry(id: string, data: RetireJobData) {
  return {
    type: 'requested' as const,
    actor: data.requestedBy,
    at: data.requestedAt,
    jobId: id,
    user: data.user,
    correlationId: data.correlationId,
    details: {
      source: data.source,
      ...(data.effectiveAt ? { effectiveAt: data.effectiveAt } : {}),
      ...(data.dryRun ? { dryRun: true } : {}),
      ...(data.batchId ? { batchId: data.batchId } : {}),
      ...(data.redrivenFrom ? { redrivenFrom: data.redrivenFrom } : {}),
    },
  };
}

export interface EnqueueManyOptions {
  /** Jobs per addBulk round trip. Default 1000. */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Enqueue many leavers: invalid items are reported and never block valid ones; duplicates
 * (within the list or against pending jobs) come back marked. One addBulk round trip per chunk.
 */
export async function enqueueMany(
  ctx: QueueContext,
  requests: readonly unknown[],
  meta: IntakeMeta,
  opts: EnqueueManyOptions = {},
): Promise<BulkItemResult[]> {
  const chunkSize = opts.chunkSize ?? 1000;
  const results: BulkItemResult[] = new Array(requests.length);
  const firstIndexByUser = new Map<string, number>();
  const valid: { index: number; id: string; data: RetireJobData }[] = [];
  requests.forEach((raw, index) => {
    try {
      const req = validateRequest(raw as OffboardRequest);
      const data = buildData(req, meta, ctx.config.worker.dryRun);
      if (firstIndexByUser.has(data.user)) {
        // Resolved after the write, when the first occurrence's id is known.
        results[index] = {
          index,
          status: 'duplicate',
          id: '',
          user: data.user,
          state: 'pending',
          duplicate: true,
        };
        return;
      }
      firstIndexByUser.set(data.user, index);
      valid.push({ index, id: randomUUID(), data });
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      const user =
        typeof (raw as OffboardRequest)?.user === 'string' ? (raw as OffboardRequest).user : undefined;
      results[index] = { index, status: 'invalid', user: user?.slice(0, 200), error: err.message };
    }
  });
  let done = 0;
  for (let i = 0; i < valid.length; i += chunkSize) {
    const chunk = valid.slice(i, i + chunkSize);
    const jobs = await ctx.retire.addBulk(
      chunk.map((v) => ({ name: 'retire', data: v.data, opts: retireJobOptions(ctx, v.id, v.data) })),
    );
    const audit = [];
    for (const [k, v] of chunk.entries()) {
      const gotId = jobs[k]?.id as string;
      const duplicate = gotId !== v.id;
      const delayed = !!v.data.effectiveAt && Date.parse(v.data.effectiveAt) > Date.now();
      results[v.index] = {
        index: v.index,
        status: duplicate ? 'duplicate' : 'accepted',
        id: gotId,
        user: v.data.user,
        state: duplicate ? 'pending' : delayed ? 'delayed' : 'waiting',
        duplicate,
        effectiveAt: v.data.effectiveAt,
      };
      audit.push(
        duplicate
          ? {
              type: 'duplicate' as const,
              actor: meta.requestedBy,
              at: new Date().toISOString(),
              jobId: gotId,
              user: v.data.user,
              correlationId: v.data.correlationId,
              details: { source: meta.source, ...(meta.batchId ? { batchId: meta.batchId } : {}) },
            }
          : requestedEntry(gotId, v.data),
      );
    }
    await appendAudit(ctx, audit);
    done += chunk.length;
    opts.onProgress?.(done, valid.length);
  }
  for (const r of results) {
    if (r?.status === 'duplicate' && r.id === '') {
      const first = results[firstIndexByUser.get(r.user) as number];
      if (first && first.status !== 'invalid') r.id = first.id;
    }
  }
  return results;
}
