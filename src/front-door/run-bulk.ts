// One pass of streamed bulk input through the front door, real or plan, reported row by row: the
// CSV import and the CLI's `enqueue --dry-run` both run it, so what a row is (new, accepted,
// duplicate, invalid) and how the counts add up is written once. The pipeline reports invalid rows
// and repeats while it stages (a plan also new rows and users with a pending job); a real run's
// accepted rows come with the enqueue results, chunk by chunk.
import {
  type BulkInput,
  type BulkOptions,
  type ItemEvent,
  planBulk,
  stageAndDecide,
} from '../guard/pipeline.js';
import type { BatchSummary } from '../guard/types.js';
import type { HoldCause } from '../guard/window.js';
import type { QueueContext } from '../queue/context.js';
import { validateFor } from './device-policy.js';
import { withTenants } from './tenant.js';

/** One row's fate; `n` is the item's index or CSV line. Keys in the order surfaces print them. */
export type BulkRow =
  | { n: number; status: 'invalid'; error: string; user?: string }
  | {
      n: number;
      status: 'new' | 'accepted' | 'duplicate';
      user: string;
      jobId?: string;
      /** A plan's new row with DEVICE_POLICY_FILE: the profile its job would get. */
      devicePolicy?: string;
    };

export interface RunBulkOptions extends Omit<BulkOptions, 'onItem'> {
  /** Report what would happen, enqueue and hold nothing. */
  plan: boolean;
  onRow?: (row: BulkRow) => void;
  /** A real run, after each enqueued chunk, with the staged items enqueued so far. */
  onEnqueued?: (done: number) => void;
}

export interface BulkRun {
  /** Jobs created (plan: rows that would create one). */
  accepted: number;
  /** Repeats inside the input plus users with a pending job already. */
  duplicate: number;
  invalid: number;
  /** A real run held by the guard: nothing was enqueued. */
  held?: BatchSummary;
  /** A plan the guard would hold. */
  wouldHold?: boolean;
  /** Why it is (or would be) held. */
  cause?: HoldCause | undefined;
  /** The pending jobs that duplicates folded into (to hide someone else's from a producer). */
  joined: string[];
}

export async function runBulk(
  ctx: QueueContext,
  input: Iterable<BulkInput> | AsyncIterable<BulkInput>,
  opts: RunBulkOptions,
): Promise<BulkRun> {
  const { plan, onRow, onEnqueued, ...rest } = opts;
  // The submission's tenant is learnt from its rows (TENANTS_FILE): a copy of meta carries it.
  const bulk = { ...rest, meta: { ...rest.meta }, validate: rest.validate ?? validateFor(ctx, rest.meta) };
  input = withTenants(ctx, input, bulk.meta);
  const run: BulkRun = { accepted: 0, duplicate: 0, invalid: 0, joined: [] };
  const invalid = (n: number, error: string, user?: string) => {
    run.invalid++;
    onRow?.({ n, status: 'invalid', error, ...(user ? { user: user.slice(0, 200) } : {}) });
  };
  const onItem = (e: ItemEvent) => {
    if (e.status === 'invalid') return invalid(e.n, e.error, e.user);
    if (e.status === 'new') run.accepted++;
    else run.duplicate++;
    if (e.status === 'duplicate' && e.jobId) run.joined.push(e.jobId);
    onRow?.(e);
  };
  if (plan) {
    const r = await planBulk(ctx, input, { ...bulk, onItem });
    run.wouldHold = r.wouldHold;
    if (r.wouldHold) run.cause = r.admission.cause;
    return run;
  }
  const r = await stageAndDecide(ctx, input, {
    ...bulk,
    onItem,
    onResults: (results, done) => {
      for (const x of results) {
        // Validated while reading already; kept for safety if rules changed in between.
        if (x.status === 'invalid') {
          invalid(x.index, x.error, x.user);
          continue;
        }
        if (x.status === 'accepted') run.accepted++;
        else {
          run.duplicate++;
          run.joined.push(x.id);
        }
        onRow?.({ n: x.index, user: x.user, status: x.status, jobId: x.id });
      }
      onEnqueued?.(done);
    },
  });
  if (r.held) {
    run.held = r.batch;
    run.cause = r.cause;
  }
  return run;
}
