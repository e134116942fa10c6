// Staging a bulk submission: where its valid items wait for the guard's answer. In Redis, items go
// to the batch's list as they are read and users are deduplicated with a Redis set, so a 100 000-row
// import needs constant memory in the process; until it is committed as a held batch, the staging
// keys expire on their own: a crashed import leaves nothing behind. A submission that is in memory
// already (an API batch) waits in memory and is written to Redis only when it is held.
import { randomUUID } from 'node:crypto';
import { type BulkItemResult, enqueueMany, type IntakeMeta } from '../intake/enqueue.js';
import type { ValidRequest } from '../intake/validate.js';
import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import { BatchNotFoundError } from './errors.js';
import { guardScope } from './scope.js';
import { readBatch, writeHeld } from './store.js';
import type { BatchSummary, StagedItem } from './types.js';
import { type Admission, type Candidate, candidateOf, type StagedUsers } from './window.js';

/** Lifetime of uncommitted staging keys, renewed by every chunk. */
const STAGING_TTL_MS = 3_600_000;
const SAMPLE_SIZE = 10;
/**
 * First occurrences kept in memory for the guard's count by retirement time (their moments). The
 * guard asks for them only when the submission is within GUARD_THRESHOLD; past this many, users are
 * counted as due now and the worker's re-check when each job becomes due still holds.
 */
const FIRSTS_CAP = 10_000;

export interface Staging {
  id: string;
  /** Distinct valid users staged so far. */
  count: number;
  /** Repeats of an already staged user. */
  duplicate: number;
  sample: string[];
  /** The first FIRSTS_CAP first occurrences (for their moments and dry-run flags). */
  firsts: ValidRequest[];
}

export function openStaging(id: string = randomUUID()): Staging {
  return { id, count: 0, duplicate: 0, sample: [], firsts: [] };
}

function noteFirst(st: Staging, r: ValidRequest): void {
  st.count++;
  if (st.sample.length < SAMPLE_SIZE) st.sample.push(r.user);
  if (st.firsts.length < FIRSTS_CAP) st.firsts.push(r);
}

/**
 * Stages one chunk. Returns, per item, whether it was the first occurrence of its user. With
 * `keepItems: false` only the user set is written (a plan's duplicate detection).
 */
export async function stageChunk(
  ctx: Pick<QueueContext, 'redis' | 'prefix'>,
  st: Staging,
  items: readonly StagedItem[],
  opts: { keepItems: boolean },
): Promise<boolean[]> {
  if (items.length === 0) return [];
  const args: string[] = [String(STAGING_TTL_MS), opts.keepItems ? '1' : '0'];
  for (const item of items) args.push(item.r.user, opts.keepItems ? JSON.stringify(item) : '');
  const raw = (await runScript(
    ctx.redis,
    'guard/stage',
    [keys.batchUsers(ctx.prefix, st.id), keys.batchItems(ctx.prefix, st.id)],
    args,
  )) as number[];
  return items.map((item, i) => {
    const first = raw[i] === 1;
    if (first) noteFirst(st, item.r);
    else st.duplicate++;
    return first;
  });
}

export async function dropStaging(ctx: Pick<QueueContext, 'redis' | 'prefix'>, id: string): Promise<void> {
  await ctx.redis.del(keys.batchUsers(ctx.prefix, id), keys.batchItems(ctx.prefix, id));
}

export interface EnqueueStagedOptions {
  /** First list position to enqueue (the resume point of an interrupted approval). Default 0. */
  from?: number;
  /** Items per LRANGE and addBulk. Default 1000. */
  chunkSize?: number;
  /** Called after each chunk is durably in the queue; results carry the item's `n` as index. */
  onChunk?: (results: BulkItemResult[], done: number) => Promise<void> | void;
}

/** Reads the staged list in chunks and enqueues each through enqueueMany (usual deduplication). */
export async function enqueueStaged(
  ctx: QueueContext,
  id: string,
  meta: IntakeMeta,
  opts: EnqueueStagedOptions = {},
): Promise<void> {
  const size = opts.chunkSize ?? 1000;
  const key = keys.batchItems(ctx.prefix, id);
  let done = opts.from ?? 0;
  for (;;) {
    const rows = await ctx.redis.lrange(key, done, done + size - 1);
    if (rows.length === 0) return;
    const items = rows.map((row) => JSON.parse(row) as StagedItem);
    const results = await enqueueMany(
      ctx,
      items.map((i) => i.r),
      meta,
      { chunkSize: size },
    );
    for (const r of results) r.index = (items[r.index] as StagedItem).n;
    done += rows.length;
    await opts.onChunk?.(results, done);
    if (rows.length < size) return;
  }
}

/**
 * The staged distinct users as the guard's window counts them (only asked for small stagings: at
 * most GUARD_THRESHOLD of them). A plain user name counts as a real request due now.
 */
async function stagedCandidates(
  ctx: QueueContext,
  st: Staging,
): Promise<(string | Candidate)[] | StagedUsers> {
  if (st.firsts.length === st.count) return st.firsts.map((r) => candidateOf(ctx, r));
  return { setKey: keys.batchUsers(ctx.prefix, st.id), count: st.count };
}

/** Enqueue results of one chunk (`index` = the item's `n`), and how many staged items are done. */
export type OnResults = (results: BulkItemResult[], done: number) => Promise<void> | void;

export interface HoldOptions {
  /** `dryRun`: every job of the batch records outcome `dry_run` once approved. */
  meta: IntakeMeta & { dryRun?: boolean };
  invalid: number;
  now?: number;
  admission?: Admission;
  /** The retire job the worker held when it became due (its audit entry names it). */
  jobId?: string;
  /** A wipe batch (src/guard/wipe-hold.ts) and its devices to wipe or delete. */
  kind?: 'wipe';
  devices?: number;
  /** More facts for the `held` audit entry (a wipe hold: the devices already in the window). */
  auditDetails?: Record<string, unknown>;
}

/** Where valid first occurrences wait for the guard's answer. */
export interface StagingStore {
  readonly st: Staging;
  /** Per item: whether it is the first occurrence of its user. `keep` stores the item itself. */
  add(items: readonly StagedItem[], keep: boolean): Promise<boolean[]>;
  /** The distinct users with their moments (asked only when there are at most GUARD_THRESHOLD). */
  candidates(): Promise<(string | Candidate)[] | StagedUsers>;
  commit(meta: IntakeMeta, chunkSize: number, onResults?: OnResults): Promise<void>;
  hold(opts: HoldOptions): Promise<BatchSummary>;
  drop(): Promise<void>;
}

/** Staging in Redis, chunk by chunk: the whole list never sits in memory. */
export function redisStore(ctx: QueueContext): StagingStore {
  const st = openStaging();
  return {
    st,
    add: (items, keep) => stageChunk(ctx, st, items, { keepItems: keep }),
    candidates: () => stagedCandidates(ctx, st),
    commit: (meta, chunkSize, onResults) =>
      enqueueStaged(ctx, st.id, meta, { chunkSize, ...(onResults ? { onChunk: onResults } : {}) }),
    hold: (o) => holdStaging(ctx, st, o),
    drop: () => dropStaging(ctx, st.id),
  };
}

/** Staging in memory for a submission that is in memory already; written to Redis when held. */
export function memoryStore(ctx: QueueContext): StagingStore {
  const st = openStaging();
  const seen = new Set<string>();
  const kept: StagedItem[] = [];
  let spilled = false;
  return {
    st,
    async add(items, keep) {
      return items.map((item) => {
        if (seen.has(item.r.user)) {
          st.duplicate++;
          return false;
        }
        seen.add(item.r.user);
        noteFirst(st, item.r);
        if (keep) kept.push(item);
        return true;
      });
    },
    candidates: () => stagedCandidates(ctx, st),
    async commit(meta, chunkSize, onResults) {
      // Two chunks in flight: the process builds the next chunk's jobs while Redis writes this
      // one (the intake benchmark's batch API: ~0.58 → ~0.73 × raw addBulk). Chunks hold distinct
      // users and share one connection, so they land in order; results are reported in order. A
      // failing chunk may leave the next one written, as a failure always leaves the chunks before
      // it: the caller gets the error, and a retry folds what was written as duplicates.
      let prev: Promise<void> = Promise.resolve();
      for (let i = 0; i < kept.length; i += chunkSize) {
        const slice = kept.slice(i, i + chunkSize);
        const written = enqueueMany(
          ctx,
          slice.map((item) => item.r),
          meta,
          { chunkSize },
        );
        const step = Promise.all([prev, written]).then(async ([, results]) => {
          for (const r of results) r.index = (slice[r.index] as StagedItem).n;
          await onResults?.(results, i + slice.length);
        });
        // Marked handled: a failure surfaces where the step is awaited, not as an unhandled rejection.
        step.catch(() => {});
        await prev;
        prev = step;
      }
      await prev;
    },
    async hold(o) {
      spilled = true;
      const redis = openStaging(st.id);
      for (let i = 0; i < kept.length; i += 1000) {
        await stageChunk(ctx, redis, kept.slice(i, i + 1000), { keepItems: true });
      }
      redis.duplicate += st.duplicate;
      return holdStaging(ctx, redis, o);
    },
    drop: async () => {
      if (spilled) await dropStaging(ctx, st.id);
    },
  };
}

/** Commits staged items as a held batch and audits it (also a single request held by the window). */
export async function holdStaging(ctx: QueueContext, st: Staging, opts: HoldOptions): Promise<BatchSummary> {
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
    ...(opts.kind ? { kind: opts.kind, devices: opts.devices ?? 0 } : {}),
    ...(opts.meta.tenant ? { tenant: opts.meta.tenant } : {}),
  });
  const batch = await readBatch(ctx, st.id);
  if (!batch) throw new BatchNotFoundError(st.id);
  const { admission } = opts;
  await appendAudit(ctx, {
    type: 'held',
    actor: batch.submittedBy,
    at: new Date().toISOString(),
    ...(opts.jobId ? { jobId: opts.jobId, user: batch.sample[0] } : {}),
    details: {
      batchId: batch.id,
      source: batch.source,
      count: batch.count,
      invalid: batch.invalid,
      duplicate: batch.duplicate,
      expiresAt: batch.expiresAt,
      threshold: guardScope(ctx, batch.tenant).threshold,
      heldBecause: admission?.cause ?? 'threshold',
      ...(batch.tenant ? { tenant: batch.tenant } : {}),
      ...(admission?.cause === 'window' || admission?.cause === 'due'
        ? {
            windowMs: ctx.config.guard.windowMs,
            acceptedInWindow: { actor: admission.actorCount, total: admission.totalCount },
          }
        : {}),
      ...(batch.dryRun ? { dryRun: true } : {}),
      ...(opts.kind
        ? { kind: opts.kind, devices: opts.devices ?? 0, wipeThreshold: ctx.config.guard.wipeThreshold ?? 10 }
        : {}),
      ...(opts.auditDetails ?? {}),
    },
  });
  return batch;
}
