// The guard's last look: when a retire job becomes due, the worker asks here before anything is
// read or retired. Admission counts users by their moment (./window.ts), but moments move after
// admission (reschedules, an earlier repeat, Entra leave dates) and several surfaces feed one
// queue; this check holds the promise whatever the path: at most GUARD_THRESHOLD jobs not released
// by an approval start retiring within any GUARD_WINDOW. Every such job is counted; the ones whose
// moment was not checked at admission (delayed jobs, whatever moved them since, and redrives) are
// held past it. A held job is not retired: it joins its submitter's open window batch (audited,
// visible with `batches list`, approved like any batch) and ends failed with HeldByGuardError,
// never a dead letter.
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { ValidRequest } from '../intake/validate.js';
import type { RetireJobData } from '../interfaces.js';
import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import { HeldLimitError } from './errors.js';
import { guardScope } from './scope.js';
import { holdStaging, openStaging, stageChunk } from './staging.js';
import { readBatch } from './store.js';
import { appendToWindowBatch, openWindowBatch } from './window-batch.js';

/** The job was held by the guard when it became due; its user waits in batch `batchId`. */
export class HeldByGuardError extends UnrecoverableError {
  override readonly name = 'HeldByGuardError';
  constructor(readonly batchId: string) {
    super(
      `held by the mass-change guard when it became due: its user waits for approval in batch ${batchId}`,
    );
  }
}

/**
 * Returns when the job may proceed. Otherwise holds its user and throws HeldByGuardError, or, when
 * a cap on held items leaves no room to hold it, puts the job back for one GUARD_WINDOW (DelayedError):
 * never retired past the guard, never lost. Dry runs retire nothing and are not counted.
 */
export async function holdIfOverDue(
  ctx: QueueContext,
  job: Job<RetireJobData, unknown>,
  data: RetireJobData,
  token?: string,
): Promise<void> {
  if (data.dryRun || ctx.config.worker.dryRun || !job.id) return;
  const { windowMs } = ctx.config.guard;
  const scope = guardScope(ctx, data.tenant);
  const threshold = scope.threshold;
  // A redriven job keeps its batch id but was not approved as such: it counts like any other.
  const fromBatch = !!data.batchId && !data.redrivenFrom;
  // A job due at once was admitted for this very moment (./window.ts); one that waited was not.
  const waited = !!data.effectiveAt && Date.parse(data.effectiveAt) > Date.parse(data.requestedAt);
  const mayHold = waited || !!data.redrivenFrom;
  const now = Date.now();
  const verdict = await runScript(
    ctx.redis,
    'guard/due-check',
    [scope.retiring, fromBatch ? keys.batch(ctx.prefix, data.batchId as string) : scope.retiring],
    [now, windowMs, threshold, job.id, fromBatch ? '1' : '0', mayHold ? '1' : '0'],
  );
  if (verdict !== 'hold') return;
  let batchId: string;
  try {
    batchId = await hold(ctx, job.id, data);
  } catch (err) {
    if (!(err instanceof HeldLimitError)) throw err;
    await job.moveToDelayed(now + windowMs, token);
    throw new DelayedError();
  }
  throw new HeldByGuardError(batchId);
}

async function hold(ctx: QueueContext, jobId: string, data: RetireJobData): Promise<string> {
  const r: ValidRequest = { user: data.user, correlationId: data.correlationId };
  if (data.reason) r.reason = data.reason;
  if (data.callbackUriPath) r.callbackUriPath = data.callbackUriPath;
  // The profile the leaver was submitted with stays through the approval.
  if (data.devicePolicy) r.devicePolicy = data.devicePolicy;
  const joined = await appendToWindowBatch(ctx, data.requestedBy, { n: 0, r });
  if (joined) {
    const batch = await readBatch(ctx, joined.id);
    if (joined.added) {
      await appendAudit(ctx, {
        type: 'held',
        actor: 'guard',
        at: new Date().toISOString(),
        jobId,
        user: data.user,
        correlationId: data.correlationId,
        details: {
          batchId: joined.id,
          source: data.source,
          submittedBy: data.requestedBy,
          joined: true,
          heldBecause: 'due',
          ...(batch ? { count: batch.count, version: batch.version } : {}),
        },
      });
    }
    return joined.id;
  }
  const st = openStaging();
  await stageChunk(ctx, st, [{ n: 0, r }], { keepItems: true });
  const n = guardScope(ctx, data.tenant).threshold + 1;
  const batch = await holdStaging(ctx, st, {
    meta: { requestedBy: data.requestedBy, source: data.source },
    invalid: 0,
    admission: { admitted: false, cause: 'due', actorCount: n, totalCount: n },
    jobId,
  });
  await openWindowBatch(ctx, data.requestedBy, batch.id, data.user, data.tenant);
  return batch.id;
}
