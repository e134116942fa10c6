// The intake front door: every producer (the API's single and batch requests, CLI enqueue, the CSV
// import, feed and Entra sweeps, the console's submit page) creates retire jobs through this file and
// no other (runBulk, run-bulk.ts, is its streaming half). Each request is validated once, here (bulk
// input once by the pipeline it streams through), then the mass-change guard decides: enqueue at
// once, or hold for approval. The guard is a step this file calls (src/guard/single.ts,
// src/guard/pipeline.ts); the job is written by src/intake/enqueue.ts.
import { type SubmitMeta, stageAndDecide } from '../guard/pipeline.js';
import { admitOne } from '../guard/single.js';
import type { BatchSummary } from '../guard/types.js';
import type { HoldCause } from '../guard/window.js';
import {
  type BulkItemResult,
  type EnqueueResult,
  enqueueValid,
  type IntakeMeta,
  type OffboardRequest,
} from '../intake/enqueue.js';
import type { QueueContext } from '../queue/context.js';
import { collectBulk, type InvalidItem } from './bulk-results.js';
import { validateFor } from './device-policy.js';
import { requestTenant, withTenants } from './tenant.js';

// Streamed input (a CSV file) and plans (what would happen, nothing written) run through runBulk,
// the same pipeline row by row. Re-exported so producers need this file only.
export type { BulkInput, SubmitMeta } from '../guard/pipeline.js';

import type { BulkInput } from '../guard/pipeline.js';

export type { InvalidItem } from './bulk-results.js';
export { validateFor } from './device-policy.js';
export { type BulkRow, type BulkRun, runBulk } from './run-bulk.js';

export type SubmitOneResult =
  | { held: false; result: EnqueueResult }
  | { held: true; batch: BatchSummary; cause: HoldCause; devicePolicy?: string };

export type SubmitResult =
  | { held: true; batch: BatchSummary; invalid: InvalidItem[]; cause: HoldCause }
  | { held: false; results: BulkItemResult[] };

/**
 * One leaver: accepted at once while the guard's window allows it, otherwise held in the actor's
 * open window batch. Throws InvalidRequestError for bad input (nothing written).
 */
export async function submitOne(
  ctx: QueueContext,
  request: OffboardRequest,
  meta: IntakeMeta,
): Promise<SubmitOneResult> {
  const r = validateFor(ctx, meta)(request);
  // The tenant step (TENANTS_FILE): 400 missing/unknown, 403 outside the key's scope.
  const tenant = requestTenant(ctx, r.tenant, meta);
  if (tenant) {
    r.tenant = tenant;
    meta = { ...meta, tenant };
  }
  const guard = await admitOne(ctx, r, meta);
  if (guard.held) return r.devicePolicy ? { ...guard, devicePolicy: r.devicePolicy } : guard;
  return { held: false, result: await enqueueValid(ctx, r, meta) };
}

/**
 * Many leavers in memory (at most 10,000 API items, a sweep's rows, several CLI users): validates
 * every item, then either enqueues them (valid distinct users ≤ GUARD_THRESHOLD and within
 * GUARD_WINDOW) or stores them as one held batch. Invalid items never block valid ones and are never
 * held. Results are in input order (`index`); a repeat of a user names the job of its first occurrence.
 */
export async function submitBulk(
  ctx: QueueContext,
  items: unknown[],
  meta: SubmitMeta,
): Promise<SubmitResult> {
  const bulk = collectBulk(items.length);
  // withTenants records the submission's tenant on this copy of meta as it resolves items.
  const m = { ...meta };
  const input = withTenants(
    ctx,
    items.map((item, n) => ({ n, item })),
    m,
  );
  // An array stays an array for the in-memory store (withTenants returns a generator otherwise).
  const out = await stageAndDecide(ctx, Array.isArray(input) ? input : [...(input as Iterable<BulkInput>)], {
    meta: m,
    store: 'memory',
    onItem: bulk.onItem,
    onResults: bulk.onResults,
    validate: validateFor(ctx, meta),
  });
  if (out.held) return { held: true, batch: out.batch, invalid: bulk.invalid, cause: out.cause };
  return { held: false, results: bulk.results() };
}
