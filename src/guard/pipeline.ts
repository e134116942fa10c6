// The one bulk pipeline, the guard's step for many leavers at once, called through the front door
// (src/front-door/front-door.ts). Every surface that submits many leavers at once (the batch API and the
// feed sweeps through submitBulk, the CSV import, the CLI's enqueue of several users) runs the
// same steps: validate each item, fold repeats of a user into its first occurrence, stage, ask the
// guard once (GUARD_THRESHOLD and GUARD_WINDOW), then enqueue or hold as one batch. A plan runs the
// same steps up to the guard's answer and enqueues, holds and reserves nothing.
//
// Items arrive as an iterable or an async iterable, so a 100,000-row file streams through in
// chunks staged in Redis (constant memory); an array already in memory (at most 10,000 API items)
// is staged in memory and written to Redis only when it is held.
import type { IntakeMeta } from '../intake/enqueue.js';
import { pendingKey } from '../intake/pending.js';
import { InvalidRequestError, type ValidRequest, validateRequest } from '../intake/validate.js';
import type { QueueContext } from '../queue/context.js';
import { memoryStore, type OnResults, redisStore, type StagingStore } from './staging.js';
import type { BatchSummary, StagedItem } from './types.js';
import { type Admission, admitWithoutApproval, type HoldCause, overThreshold } from './window.js';

export type { OnResults } from './staging.js';

export type SubmitMeta = IntakeMeta & {
  /** Per-batch dry run: every job records outcome `dry_run` instead of calling Graph. */
  dryRun?: boolean;
};

/**
 * One item of a bulk submission: `n` is its index or CSV line. `refused` marks an item its source
 * could not even turn into a request (an unparseable CSV row); `user` names the item in reports.
 */
export type BulkInput =
  | { n: number; item: unknown; user?: unknown }
  | { n: number; refused: string; user?: unknown };

/** What the pipeline found out about one item while staging, in input order. */
export type ItemEvent =
  | { n: number; status: 'invalid'; user?: string; error: string }
  /** A repeat inside the submission, or (plan) a user with a pending job, named by `jobId`. */
  | { n: number; status: 'duplicate'; user: string; jobId?: string }
  /** Plan only: the item would create a job (with DEVICE_POLICY_FILE: under this profile). */
  | { n: number; status: 'new'; user: string; devicePolicy?: string };

export interface BulkOptions {
  meta: SubmitMeta;
  /** Items per validation chunk, Redis round trip and addBulk. Default 1000. */
  chunkSize?: number;
  /** Where valid items wait for the guard. Default: memory for an array, Redis for anything else. */
  store?: 'memory' | 'redis';
  onItem?: (e: ItemEvent) => void;
  /** After each staged chunk, with the distinct valid users so far. */
  onStaged?: (staged: number) => void;
  /**
   * Turns one raw item into a request (default validateRequest); the front door adds its own checks
   * (the device policy profile). An InvalidRequestError marks the item invalid; any other error
   * ends the whole submission with nothing written.
   */
  validate?: (raw: unknown) => ValidRequest;
}

export interface Counts {
  /** Plan: items that would create a job. A real run leaves it 0 (see the results). */
  new: number;
  duplicate: number;
  invalid: number;
}

export type PlanResult = Counts & { wouldHold: boolean; admission: Admission };

export type StageResult = Counts & { admission: Admission } & (
    | { held: true; batch: BatchSummary; cause: HoldCause }
    | { held: false; staged: number }
  );

/** A batch-level dry run wins over an item's own `dryRun: false` (the safe direction). */
export function withDryRun(item: unknown, dryRun: boolean | undefined): unknown {
  if (!dryRun || typeof item !== 'object' || item === null || Array.isArray(item)) return item;
  return { ...(item as Record<string, unknown>), dryRun: true };
}

/** What the guard would do, per item and for the whole: nothing is enqueued, held or reserved. */
export async function planBulk(
  ctx: QueueContext,
  input: Iterable<BulkInput> | AsyncIterable<BulkInput>,
  opts: BulkOptions,
): Promise<PlanResult> {
  const store = openStore(ctx, input, opts);
  try {
    const counts = await stageInput(ctx, input, store, opts, true);
    const admission = await decide(ctx, store, opts.meta, false);
    return { ...counts, wouldHold: !admission.admitted, admission };
  } finally {
    await store.drop().catch(() => {});
  }
}

/**
 * Stages every valid item, asks the guard once, then enqueues the staged items (results per chunk
 * through `onResults`, `index` = the item's `n`) or holds them as one batch. Repeats inside the
 * submission are reported through `onItem` and not enqueued again.
 */
export async function stageAndDecide(
  ctx: QueueContext,
  input: Iterable<BulkInput> | AsyncIterable<BulkInput>,
  opts: BulkOptions & { onResults?: OnResults },
): Promise<StageResult> {
  const store = openStore(ctx, input, opts);
  let held = false;
  try {
    const counts = await stageInput(ctx, input, store, opts, false);
    const admission = await decide(ctx, store, opts.meta, true);
    if (!admission.admitted) {
      const batch = await store.hold({ meta: opts.meta, invalid: counts.invalid, admission });
      held = true;
      return { ...counts, admission, held: true, batch, cause: admission.cause ?? 'threshold' };
    }
    const { dryRun: _dry, ...meta } = opts.meta;
    if (store.st.count > 0) await store.commit(meta, opts.chunkSize ?? 1000, opts.onResults);
    return { ...counts, admission, held: false, staged: store.st.count };
  } finally {
    if (!held) await store.drop().catch(() => {});
  }
}

/** Over the threshold needs no look at the window; under it, the window decides (and reserves). */
async function decide(
  ctx: QueueContext,
  store: StagingStore,
  meta: { requestedBy: string; tenant?: string },
  reserve: boolean,
): Promise<Admission> {
  // The submission's tenant, learnt from its rows while staging (front-door/tenant.ts).
  const { requestedBy: actor, tenant } = meta;
  return (
    overThreshold(ctx, store.st.count, tenant) ??
    (await admitWithoutApproval(ctx, actor, await store.candidates(), {
      reserve,
      ...(tenant ? { tenant } : {}),
    }))
  );
}

interface Pending {
  n: number;
  r?: ValidRequest;
  error?: string;
  user?: unknown;
}

async function stageInput(
  ctx: QueueContext,
  input: Iterable<BulkInput> | AsyncIterable<BulkInput>,
  store: StagingStore,
  opts: BulkOptions,
  plan: boolean,
): Promise<Counts> {
  const size = opts.chunkSize ?? 1000;
  const validate = opts.validate ?? validateRequest;
  const counts: Counts = { new: 0, duplicate: 0, invalid: 0 };
  let chunk: Pending[] = [];
  const flush = async () => {
    await stageOne(ctx, store, chunk, plan, counts, opts.onItem);
    chunk = [];
    opts.onStaged?.(store.st.count);
  };
  const take = (x: BulkInput) => {
    if ('refused' in x) return chunk.push({ n: x.n, error: x.refused, user: x.user });
    const raw = withDryRun(x.item, opts.meta.dryRun);
    try {
      return chunk.push({ n: x.n, r: validate(raw) });
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      const user = 'user' in x ? x.user : (raw as { user?: unknown } | null)?.user;
      return chunk.push({ n: x.n, error: err.message, user });
    }
  };
  // An array is walked without a microtask per item; a stream is awaited row by row.
  if (Symbol.asyncIterator in input) {
    for await (const x of input) if (take(x) >= size) await flush();
  } else {
    for (const x of input) if (take(x) >= size) await flush();
  }
  await flush();
  return counts;
}

/**
 * Reports the chunk's invalid items and stages its valid ones, in input order. A plan keeps only
 * the users and asks which first occurrences already have a pending job.
 */
async function stageOne(
  ctx: QueueContext,
  store: StagingStore,
  chunk: Pending[],
  plan: boolean,
  counts: Counts,
  onItem: BulkOptions['onItem'],
): Promise<void> {
  const items: StagedItem[] = [];
  for (const p of chunk) if (p.r) items.push({ n: p.n, r: p.r });
  const first = await store.add(items, !plan);
  const pending = plan
    ? await Promise.all(
        items.map((item, i) =>
          first[i]
            ? ctx.retire.getDeduplicationJobId(
                pendingKey(item.r.user, ctx.config.worker.dryRun || item.r.dryRun === true, item.r.tenant),
              )
            : null,
        ),
      )
    : [];
  let k = 0;
  for (const p of chunk) {
    if (!p.r) {
      counts.invalid++;
      const user = typeof p.user === 'string' ? { user: p.user.slice(0, 200) } : {};
      onItem?.({ n: p.n, status: 'invalid', ...user, error: p.error ?? 'invalid item' });
      continue;
    }
    const i = k++;
    const jobId = pending[i] || undefined;
    if (!first[i] || jobId) {
      counts.duplicate++;
      onItem?.({ n: p.n, status: 'duplicate', user: p.r.user, ...(jobId ? { jobId } : {}) });
    } else if (plan) {
      counts.new++;
      const profile = p.r.devicePolicy ? { devicePolicy: p.r.devicePolicy } : {};
      onItem?.({ n: p.n, status: 'new', user: p.r.user, ...profile });
    }
  }
}

function openStore(ctx: QueueContext, input: unknown, opts: BulkOptions): StagingStore {
  const kind = opts.store ?? (Array.isArray(input) ? 'memory' : 'redis');
  return kind === 'memory' ? memoryStore(ctx) : redisStore(ctx);
}
