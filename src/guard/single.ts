// The guard's step for one leaver (the API's single request, the CLI's enqueue of one user), called
// by the front door (src/front-door/front-door.ts) with a request it has validated already. Past the
// window (or the count by retirement time) it is held in the actor's open window batch, so a stream
// of single requests makes one batch to review. A repeat of a user already held there changes
// nothing and writes no audit entry: at the per-key rate limit, 60 repeats a minute would otherwise
// push a month of audit out of the capped stream in a day.
import type { IntakeMeta } from '../intake/enqueue.js';
import type { ValidRequest } from '../intake/validate.js';
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { BatchNotFoundError } from './errors.js';
import { holdStaging, openStaging, stageChunk } from './staging.js';
import { readBatch } from './store.js';
import type { BatchSummary } from './types.js';
import { admitWithoutApproval, candidateOf, type HoldCause } from './window.js';
import { appendToWindowBatch, openWindowBatch } from './window-batch.js';

export type AdmitOneResult = { held: false } | { held: true; batch: BatchSummary; cause: HoldCause };

/**
 * Admitted without approval while the actor (and everyone together) stays within GUARD_THRESHOLD
 * distinct users per GUARD_WINDOW, and the users due around its moment stay within it too (the
 * caller then enqueues); otherwise held for an operator's approval, here.
 */
export async function admitOne(
  ctx: QueueContext,
  r: ValidRequest,
  meta: IntakeMeta,
): Promise<AdmitOneResult> {
  const tenant = r.tenant ?? meta.tenant;
  const admission = await admitWithoutApproval(ctx, meta.requestedBy, [candidateOf(ctx, r)], {
    ...(tenant ? { tenant } : {}),
  });
  if (admission.admitted) return { held: false };
  const cause = admission.cause ?? 'window';
  const joined = await appendToWindowBatch(ctx, meta.requestedBy, { n: 0, r });
  if (joined) {
    const batch = await readBatch(ctx, joined.id);
    if (!batch) throw new BatchNotFoundError(joined.id);
    if (joined.added) {
      await appendAudit(ctx, {
        type: 'held',
        actor: meta.requestedBy,
        at: new Date().toISOString(),
        user: r.user,
        ...(r.correlationId ? { correlationId: r.correlationId } : {}),
        details: {
          batchId: joined.id,
          source: meta.source,
          joined: true,
          ...(r.tenant ? { tenant: r.tenant } : {}),
          heldBecause: cause,
          count: batch.count,
          version: batch.version,
        },
      });
    }
    return { held: true, batch, cause };
  }
  const st = openStaging();
  await stageChunk(ctx, st, [{ n: 0, r }], { keepItems: true });
  const batch = await holdStaging(ctx, st, { meta, invalid: 0, admission });
  await openWindowBatch(ctx, meta.requestedBy, batch.id, r.user, r.tenant);
  return { held: true, batch, cause };
}
