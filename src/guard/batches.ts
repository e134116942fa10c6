// The mass-change guard's held batches: a bulk submission (batch API, CSV import, scheduled sweep)
// with more than GUARD_THRESHOLD valid distinct users is held as a batch instead of enqueued (by the
// front door, src/front-door/front-door.ts, through the bulk pipeline), until an
// operator approves it (with GUARD_TWO_PERSON, someone other than the submitter) or rejects it,
// or it expires after GUARD_TTL. Held, approved, rejected and expired batches are audited.
import type { BulkItemResult } from '../intake/enqueue.js';
import type { AuditEntry } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { isValidId } from '../queue/ids.js';
import { keys } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import {
  BatchChangedError,
  BatchNotFoundError,
  BatchStateError,
  BatchVersionRequiredError,
  TwoPersonRuleError,
} from './errors.js';
import { guardScope } from './scope.js';
import { enqueueStaged } from './staging.js';
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
} from './store.js';
import type { BatchState, BatchSummary, StagedItem } from './types.js';

function audit(type: AuditEntry['type'], actor: string, batch: BatchSummary, extra = {}): AuditEntry {
  return {
    type,
    actor,
    at: new Date().toISOString(),
    details: { batchId: batch.id, source: batch.source, count: batch.count, ...extra },
  };
}

export async function mustRead(ctx: QueueContext, id: string): Promise<BatchSummary> {
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

/**
 * The version the decider reviewed (BatchSummary.version, the API's ETag, the CLI's `--version`, the
 * console form's hidden field). Required: a decision without it is refused (BatchVersionRequiredError),
 * one for another version too (BatchChangedError), so nobody approves users they were not shown.
 */
export interface DecisionOptions {
  version?: number;
}

async function requireVersion(ctx: QueueContext, id: string, version: number | undefined): Promise<number> {
  if (version !== undefined && Number.isSafeInteger(version) && version >= 1) return version;
  const b = await mustRead(ctx, id);
  throw new BatchVersionRequiredError(id, b.version, b.count);
}

export interface ApproveOptions extends DecisionOptions {
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
  const version = await requireVersion(ctx, id, opts.version);
  await expireBatches(ctx);
  // The two-person rule of the batch's tenant (TENANTS_FILE `guard.twoPerson`), or the deployment's.
  const twoPerson = guardScope(ctx, (await readBatch(ctx, id))?.tenant).twoPerson;
  const out = await tryApprove(ctx, id, actor, Date.now(), twoPerson, version);
  if (out.kind === 'missing') throw new BatchNotFoundError(id);
  if (out.kind === 'changed') throw new BatchChangedError(id, version, out.version, out.count);
  if (out.kind === 'two_person') throw new TwoPersonRuleError(id, actor);
  if (out.kind === 'expired') {
    await afterExpiry(ctx, id);
    throw new BatchStateError(id, 'expired');
  }
  if (out.kind === 'state') throw new BatchStateError(id, out.state);
  const before = await mustRead(ctx, id);
  if (out.kind === 'ok') {
    await appendAudit(ctx, audit('approved', actor, before, { submittedBy: before.submittedBy, version }));
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
  opts: DecisionOptions & { reason?: string | undefined } = {},
): Promise<BatchSummary> {
  if (!isValidId(id)) throw new BatchNotFoundError(String(id).slice(0, 128));
  const version = await requireVersion(ctx, id, opts.version);
  const text = (opts.reason ?? '').trim().slice(0, 500);
  const out = await tryReject(ctx, id, actor, Date.now(), text, version);
  if (out.kind === 'missing') throw new BatchNotFoundError(id);
  if (out.kind === 'changed') throw new BatchChangedError(id, version, out.version, out.count);
  if (out.kind === 'expired') {
    await afterExpiry(ctx, id);
    throw new BatchStateError(id, 'expired');
  }
  if (out.kind === 'state') throw new BatchStateError(id, out.state);
  await dropItems(ctx, id);
  const batch = await mustRead(ctx, id);
  await appendAudit(
    ctx,
    audit('rejected', actor, batch, {
      submittedBy: batch.submittedBy,
      version,
      ...(text ? { reason: text } : {}),
    }),
  );
  return batch;
}

export {
  BatchChangedError,
  BatchNotFoundError,
  BatchStateError,
  BatchVersionRequiredError,
  TwoPersonRuleError,
} from './errors.js';
export type { BatchState, BatchSummary } from './types.js';
