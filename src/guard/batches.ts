// The mass-change guard: a bulk submission (batch API, CSV import, scheduled sweep) with more
// than GUARD_THRESHOLD valid distinct users is held as a batch instead of enqueued, until an
// operator approves it (with GUARD_TWO_PERSON, someone other than the submitter) or rejects it,
// or it expires after GUARD_TTL. Held, approved, rejected and expired batches are audited.
import {
  type BulkItemResult,
  type EnqueueResult,
  enqueue,
  enqueueMany,
  type IntakeMeta,
  type OffboardRequest,
} from '../intake/enqueue.js';
import { InvalidRequestError, validateRequest } from '../intake/validate.js';
import type { AuditEntry } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { isValidId } from '../queue/ids.js';
import { keys } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import { BatchNotFoundError, BatchStateError, TwoPersonRuleError } from './errors.js';
import { enqueueStaged, openStaging, type Staging, stageChunk } from './staging.js';
import {
  batchIds,
  dropItems,
  finishApproval,
  readAllBatches,
  readBatch,
  recordProgress,
  releaseLease,
  tryApprove,
  tryExpire,
  tryReject,
  writeHeld,
} from './store.js';
import type { BatchState, BatchSummary, StagedItem } from './types.js';
import { type Admission, admitWithoutApproval, type HoldCause } from './window.js';
import { appendToWindowBatch, openWindowBatch } from './window-batch.js';

export type InvalidItem = Extract<BulkItemResult, { status: 'invalid' }>;

export type SubmitMeta = IntakeMeta & {
  /** Per-batch dry run: every job records outcome `dry_run` instead of calling Graph. */
  dryRun?: boolean;
};

export type SubmitResult =
  | { held: true; batch: BatchSummary; invalid: InvalidItem[]; cause: HoldCause }
  | { held: false; results: BulkItemResult[] };

/** A batch-level dry run wins over an item's own `dryRun: false` (the safe direction). */
export function withDryRun(item: unknown, dryRun: boolean | undefined): unknown {
  if (!dryRun || typeof item !== 'object' || item === null || Array.isArray(item)) return item;
  return { ...(item as Record<string, unknown>), dryRun: true };
}

function intakeMeta(meta: SubmitMeta): IntakeMeta {
  const { dryRun: _ignored, ...rest } = meta;
  return rest;
}

function audit(type: AuditEntry['type'], actor: string, batch: BatchSummary, extra = {}): AuditEntry {
  return {
    type,
    actor,
    at: new Date().toISOString(),
    details: { batchId: batch.id, source: batch.source, count: batch.count, ...extra },
  };
}

/**
 * Validates every item, then either enqueues them (valid distinct users ≤ GUARD_THRESHOLD) or
 * stores them as one held batch. Invalid items never block valid ones and are never held.
 */
export async function submitBulk(
  ctx: QueueContext,
  items: unknown[],
  meta: SubmitMeta,
): Promise<SubmitResult> {
  const prepared = items.map((item) => withDryRun(item, meta.dryRun));
  const valid: StagedItem[] = [];
  const invalid: InvalidItem[] = [];
  const users = new Set<string>();
  prepared.forEach((raw, index) => {
    try {
      const r = validateRequest(raw);
      valid.push({ n: index, r });
      users.add(r.user);
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      const user = (raw as { user?: unknown } | null)?.user;
      invalid.push({
        index,
        status: 'invalid',
        ...(typeof user === 'string' ? { user: user.slice(0, 200) } : {}),
        error: err.message,
      });
    }
  });
  const admission = await admitWithoutApproval(ctx, meta.requestedBy, [...users]);
  if (admission.admitted) {
    return { held: false, results: await enqueueMany(ctx, prepared, intakeMeta(meta)) };
  }
  const st = openStaging();
  for (let i = 0; i < valid.length; i += 1000) {
    await stageChunk(ctx, st, valid.slice(i, i + 1000), { keepItems: true });
  }
  const batch = await holdStaging(ctx, st, { meta, invalid: invalid.length, admission });
  return { held: true, batch, invalid, cause: admission.cause ?? 'threshold' };
}

export type SubmitOneResult =
  | { held: false; result: EnqueueResult }
  | { held: true; batch: BatchSummary; cause: HoldCause };

/**
 * One leaver through the guard's window: accepted without approval while the actor (and everyone
 * together) stays within GUARD_THRESHOLD distinct users per GUARD_WINDOW; past it, held as a batch
 * of one for an operator's approval. Throws InvalidRequestError for bad input (nothing written).
 */
export async function submitOne(
  ctx: QueueContext,
  request: OffboardRequest,
  meta: IntakeMeta,
): Promise<SubmitOneResult> {
  const r = validateRequest(request);
  const admission = await admitWithoutApproval(ctx, meta.requestedBy, [r.user]);
  if (admission.admitted) return { held: false, result: await enqueue(ctx, request, meta) };
  // Join the actor's open window batch, so a stream of single requests makes one batch to review.
  const joined = await appendToWindowBatch(ctx, meta.requestedBy, { n: 0, r });
  if (joined) {
    const batch = await mustRead(ctx, joined);
    await appendAudit(ctx, {
      type: 'held',
      actor: meta.requestedBy,
      at: new Date().toISOString(),
      user: r.user,
      ...(r.correlationId ? { correlationId: r.correlationId } : {}),
      details: {
        batchId: joined,
        source: meta.source,
        joined: true,
        heldBecause: 'window',
        count: batch.count,
      },
    });
    return { held: true, batch, cause: 'window' };
  }
  const st = openStaging();
  await stageChunk(ctx, st, [{ n: 0, r }], { keepItems: true });
  const batch = await holdStaging(ctx, st, { meta, invalid: 0, admission });
  await openWindowBatch(ctx, meta.requestedBy, batch.id, r.user);
  return { held: true, batch, cause: admission.cause ?? 'window' };
}

/** Commits staged items as a held batch and audits it. Used by submitBulk and the CSV import. */
export async function holdStaging(
  ctx: QueueContext,
  st: Staging,
  opts: { meta: SubmitMeta; invalid: number; now?: number; admission?: Admission },
): Promise<BatchSummary> {
  const now = opts.now ?? Date.now();
  await writeHeld(ctx, {
    id: st.id,
    source: opts.meta.source,
    submittedBy: opts.meta.requestedBy,
    createdAtMs: now,
    expiresAtMs: now + ctx.config.guard.ttlMs,
    count: st.count,
    invalid: opts.invalid,
    duplicate: st.duplicate,
    dryRun: opts.meta.dryRun === true,
    sample: st.sample,
  });
  const batch = await mustRead(ctx, st.id);
  await appendAudit(
    ctx,
    audit('held', batch.submittedBy, batch, {
      invalid: batch.invalid,
      duplicate: batch.duplicate,
      expiresAt: batch.expiresAt,
      threshold: ctx.config.guard.threshold,
      heldBecause: opts.admission?.cause ?? 'threshold',
      ...(opts.admission?.cause === 'window'
        ? {
            windowMs: ctx.config.guard.windowMs,
            acceptedInWindow: { actor: opts.admission.actorCount, total: opts.admission.totalCount },
          }
        : {}),
      ...(batch.dryRun ? { dryRun: true } : {}),
    }),
  );
  return batch;
}

async function mustRead(ctx: QueueContext, id: string): Promise<BatchSummary> {
  const b = isValidId(id) ? await readBatch(ctx, id) : null;
  if (!b) throw new BatchNotFoundError(id);
  return b;
}

async function afterExpiry(ctx: QueueContext, id: string): Promise<BatchSummary | null> {
  await dropItems(ctx, id);
  const b = await readBatch(ctx, id);
  if (b) await appendAudit(ctx, audit('expired', 'guard', b, { expiresAt: b.expiresAt }));
  return b;
}

/**
 * Held batches past their expiry become `expired` (audited, items dropped, nothing enqueued).
 * Called by list/get/approve and on every sweep tick; safe to run from many processes at once.
 */
export async function expireBatches(ctx: QueueContext, now = Date.now()): Promise<BatchSummary[]> {
  const ids = await batchIds(ctx);
  if (ids.length === 0) return [];
  const pipeline = ctx.redis.pipeline();
  for (const id of ids) pipeline.hmget(keys.batch(ctx.prefix, id), 'state', 'expiresAtMs');
  const rows = (await pipeline.exec()) ?? [];
  const expired: BatchSummary[] = [];
  for (const [i, [err, value]] of rows.entries()) {
    if (err) throw err;
    const [state, expiresAt] = value as [string | null, string | null];
    if (state !== 'held' || Number(expiresAt) > now) continue;
    const id = ids[i] as string;
    if (await tryExpire(ctx, id, now)) {
      const b = await afterExpiry(ctx, id);
      if (b) expired.push(b);
    }
  }
  return expired;
}

export interface ListBatchesOptions {
  state?: BatchState;
  /** Newest first, at most this many scanned. Default 100, at most 1000. */
  limit?: number;
}

export async function listBatches(ctx: QueueContext, opts: ListBatchesOptions = {}): Promise<BatchSummary[]> {
  await expireBatches(ctx);
  const limit = Math.min(1000, Math.max(1, opts.limit ?? 100));
  const all = await readAllBatches(ctx, opts.state ? 1000 : limit);
  return (opts.state ? all.filter((b) => b.state === opts.state) : all).slice(0, limit);
}

export async function getBatch(ctx: QueueContext, id: string): Promise<BatchSummary> {
  const b = await mustRead(ctx, id);
  if (b.state === 'held' && Date.parse(b.expiresAt) <= Date.now() && (await tryExpire(ctx, id, Date.now()))) {
    return (await afterExpiry(ctx, id)) ?? b;
  }
  return b;
}

/** The users of a batch that is still held (or being approved), in submission order. */
export async function listBatchItems(
  ctx: QueueContext,
  id: string,
  opts: { offset?: number; limit?: number } = {},
): Promise<StagedItem[]> {
  await mustRead(ctx, id);
  const offset = Math.max(0, opts.offset ?? 0);
  const limit = Math.min(10_000, Math.max(1, opts.limit ?? 100));
  const rows = await ctx.redis.lrange(keys.batchItems(ctx.prefix, id), offset, offset + limit - 1);
  return rows.map((row) => JSON.parse(row) as StagedItem);
}

export interface ApproveOptions {
  /** Keep per-item results (memory grows with the batch). Default true. */
  results?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Approves a held batch and enqueues its items. The state turns `approving` atomically before
 * the first job is written (a concurrent second approval gets BatchStateError); progress is
 * recorded per chunk, so after a crash a later approve resumes where it stopped once the lease
 * lapsed; a chunk written twice is caught by the per-user deduplication.
 */
export async function approveBatch(
  ctx: QueueContext,
  id: string,
  actor: string,
  opts: ApproveOptions = {},
): Promise<{ batch: BatchSummary; results: BulkItemResult[] }> {
  if (!isValidId(id)) throw new BatchNotFoundError(String(id).slice(0, 128));
  await expireBatches(ctx);
  const out = await tryApprove(ctx, id, actor, Date.now(), ctx.config.guard.twoPerson);
  if (out.kind === 'missing') throw new BatchNotFoundError(id);
  if (out.kind === 'two_person') throw new TwoPersonRuleError(id, actor);
  if (out.kind === 'expired') {
    await afterExpiry(ctx, id);
    throw new BatchStateError(id, 'expired');
  }
  if (out.kind === 'state') throw new BatchStateError(id, out.state);
  const before = await mustRead(ctx, id);
  if (out.kind === 'ok') {
    await appendAudit(ctx, audit('approved', actor, before, { submittedBy: before.submittedBy }));
  }
  const results: BulkItemResult[] = [];
  try {
    await enqueueStaged(
      ctx,
      id,
      { requestedBy: before.submittedBy, source: before.source, batchId: id },
      {
        from: before.enqueued ?? 0,
        onChunk: async (chunk, done) => {
          if (opts.results !== false) results.push(...chunk);
          const count = (s: BulkItemResult['status']) => chunk.filter((r) => r.status === s).length;
          await recordProgress(ctx, id, {
            items: chunk.length,
            accepted: count('accepted'),
            duplicate: count('duplicate'),
            invalid: count('invalid'),
          });
          opts.onProgress?.(done, before.count);
        },
      },
    );
  } catch (err) {
    await releaseLease(ctx, id).catch(() => {});
    throw err;
  }
  await finishApproval(ctx, id);
  return { batch: await mustRead(ctx, id), results };
}

export async function rejectBatch(
  ctx: QueueContext,
  id: string,
  actor: string,
  reason?: string,
): Promise<BatchSummary> {
  if (!isValidId(id)) throw new BatchNotFoundError(String(id).slice(0, 128));
  const text = (reason ?? '').trim().slice(0, 500);
  const out = await tryReject(ctx, id, actor, Date.now(), text);
  if (out.kind === 'missing') throw new BatchNotFoundError(id);
  if (out.kind === 'expired') {
    await afterExpiry(ctx, id);
    throw new BatchStateError(id, 'expired');
  }
  if (out.kind === 'state') throw new BatchStateError(id, out.state);
  await dropItems(ctx, id);
  const batch = await mustRead(ctx, id);
  await appendAudit(
    ctx,
    audit('rejected', actor, batch, { submittedBy: batch.submittedBy, ...(text ? { reason: text } : {}) }),
  );
  return batch;
}

export { BatchNotFoundError, BatchStateError, TwoPersonRuleError } from './errors.js';
export type { BatchState, BatchSummary } from './types.js';
