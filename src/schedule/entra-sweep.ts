// One tick of an `entra` schedule. Every read happens first (the window's pages, then a direct read
// of each leaver the window no longer lists); only when all of them succeeded does anything change:
// moved dates reschedule, withdrawn dates cancel (reconcile), new leavers go through the same guarded
// submission as every sweep. A failed read throws before the first write: nothing is enqueued,
// moved or cancelled on a partial picture. More withdrawals than GUARD_THRESHOLD in one tick cancel
// nothing (the schedule reports mass_withdrawal) unless an operator explicitly allows them.
import { type SubmitMeta, submitBulk } from '../front-door/front-door.js';
import { listBatches } from '../guard/batches.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import { recordUpnAliases } from '../records/user-jobs.js';
import { isValidUser } from '../values/user.js';
import type { SweepSource } from './definition.js';
import {
  type EntraLeaver,
  type EntraReader,
  leaveWindow,
  readLeaveDate,
  readLeavers,
} from './entra-source.js';
import { SweepSourceError } from './errors.js';
import {
  delayedScheduleJobs,
  isScheduleJob,
  type Move,
  moveJob,
  pendingJob,
  requestedByOthers,
  withdrawJob,
} from './reconcile.js';
import { lastReadMs } from './sweep-status.js';
import type { SweepSummary } from './sweep-summary.js';

type EntraSource = Extract<SweepSource, { type: 'entra' }>;
type Base = Pick<SweepSummary, 'schedule' | 'tick' | 'source' | 'dryRun'>;

/** Users of this schedule's batches still waiting for approval (user → batch id): not submitted again. */
async function heldUsers(ctx: QueueContext, actor: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const batches = (await listBatches(ctx, { limit: 1000 })).filter(
    (b) => (b.state === 'held' || b.state === 'approving') && b.submittedBy === actor,
  );
  for (const b of batches) {
    const rows = await ctx.redis.lrange(keys.batchItems(ctx.prefix, b.id), 0, -1);
    for (const row of rows) {
      try {
        const user = (JSON.parse(row) as { r?: { user?: string } }).r?.user;
        if (user) out.set(user, b.id);
      } catch {
        // an unreadable item cannot be matched; the user is submitted again and deduplicated there
      }
    }
  }
  return out;
}

const differs = (a: string | undefined, b: string) => !a || Math.abs(Date.parse(a) - Date.parse(b)) >= 1000;

export async function sweepEntra(
  ctx: QueueContext,
  source: EntraSource,
  meta: SubmitMeta,
  base: Base,
  reader: EntraReader | undefined,
  /** Operator letting this tick withdraw more than GUARD_THRESHOLD leavers at once. */
  allowMassWithdrawalBy?: string,
): Promise<SweepSummary> {
  if (!reader) {
    throw new SweepSourceError(
      'entra source: this process has no Graph credentials to read Entra with (runs in `offboard worker`)',
    );
  }
  const actor = meta.requestedBy;
  const offset = source.offsetMs ?? 0;
  const dryRun = meta.dryRun === true || ctx.config.worker.dryRun;
  const now = Date.now();
  const w = leaveWindow(await lastReadMs(ctx, base.schedule), now, source.lookaheadMs);
  const due = (l: { leaveAt: string }) => new Date(Date.parse(l.leaveAt) + offset).toISOString();

  // 1. Reads. Any failure throws here, before a single write.
  const read = await readLeavers(reader, w);
  const listed = new Map(read.leavers.map((l) => [l.id, l]));
  const moves: Move[] = [];
  const submit: EntraLeaver[] = [];
  let duplicate = read.repeated;
  let heldCount = 0;
  let heldBatch: string | null = null;
  const held = await heldUsers(ctx, actor);
  // Each leaver's pending job, looked up a chunk at a time (a 14-day lookahead can list thousands).
  const pendings: Awaited<ReturnType<typeof pendingJob>>[] = [];
  for (let i = 0; i < read.leavers.length; i += 100) {
    const chunk = read.leavers.slice(i, i + 100);
    pendings.push(...(await Promise.all(chunk.map((l) => pendingJob(ctx, l.id, dryRun, meta.tenant)))));
  }
  for (const [i, l] of read.leavers.entries()) {
    const effectiveAt = due(l);
    const pending = pendings[i] ?? null;
    if (!pending) {
      const batch = held.get(l.id);
      if (batch) {
        heldCount++;
        heldBatch = batch;
      } else submit.push(l);
      continue;
    }
    const current = pending.job.data.effectiveAt;
    const delayed = pending.state === 'delayed';
    const earlier = delayed && !!current && Date.parse(effectiveAt) < Date.parse(current);
    if (
      isScheduleJob(pending.job.data, actor) &&
      source.reconcile &&
      delayed &&
      differs(current, effectiveAt)
    ) {
      // Never put off a job someone else asked for too; bringing it forward is always fine.
      if (earlier || !(await requestedByOthers(ctx, pending.job, actor))) {
        moves.push({ job: pending.job, effectiveAt, leaveAt: l.leaveAt });
        continue;
      }
    }
    // Another source's job (or reconciliation off): only an earlier date acts, through the intake.
    if (earlier) submit.push(l);
    else duplicate++;
  }
  const withdrawals: { job: Move['job']; leaveAt: string | null }[] = [];
  if (source.reconcile) {
    // Only jobs due inside the window that was read can be judged missing from it.
    const candidates = await delayedScheduleJobs(ctx, actor, dryRun, w.fromMs + offset, w.toMs + offset);
    for (const job of candidates) {
      if (listed.has(job.data.user) || (await requestedByOthers(ctx, job, actor))) continue;
      // The window comes from an eventually consistent index: confirm with a direct read.
      const leaveAt = await readLeaveDate(reader, job.data.user);
      if (leaveAt === undefined) continue; // user deleted: not judged, the job reports it
      if (leaveAt === null || Date.parse(leaveAt) > w.toMs) withdrawals.push({ job, leaveAt });
      else if (differs(job.data.effectiveAt, due({ leaveAt })))
        moves.push({ job, effectiveAt: due({ leaveAt }), leaveAt });
    }
  }

  // 2. Writes.
  let rescheduled = 0;
  let withdrawn = 0;
  for (const m of moves) if (await moveJob(ctx, m, actor)) rescheduled++;
  // An HR sync that clears every leave date must not cancel every pending leaver in one tick: past
  // the guard's threshold (0 holds every withdrawal, as the guard holds every submission) nothing
  // is withdrawn until the source is fixed or an operator runs the tick with an explicit override.
  const threshold = ctx.config.guard.threshold;
  const mass = withdrawals.length > threshold;
  const blocked = mass && !allowMassWithdrawalBy;
  if (mass && allowMassWithdrawalBy) {
    await appendAudit(ctx, {
      type: 'sweep',
      actor: allowMassWithdrawalBy,
      at: new Date().toISOString(),
      details: {
        schedule: base.schedule,
        tick: base.tick,
        allowMassWithdrawal: true,
        withdrawals: withdrawals.length,
        threshold,
      },
    });
  }
  if (!blocked) {
    const allowedBy = mass ? allowMassWithdrawalBy : undefined;
    for (const wd of withdrawals) {
      const detail = { schedule: base.schedule, leaveAt: wd.leaveAt, ...(allowedBy ? { allowedBy } : {}) };
      if (await withdrawJob(ctx, wd.job, actor, detail)) withdrawn++;
    }
  }
  // Entra named both: a later lookup by UPN finds these object-id jobs (records/user-jobs.ts).
  await recordUpnAliases(
    ctx,
    read.leavers.flatMap((l) => (l.upn ? [{ upn: l.upn, objectId: l.id }] : [])),
  );
  const items = submit.map((l) => ({
    user: l.id,
    effectiveAt: due(l),
    reason: `Entra leave date ${l.leaveAt}${l.upn && isValidUser(l.upn) ? ` (${l.upn})` : ''}`,
  }));
  let accepted = 0;
  let invalid = read.invalid;
  if (items.length > 0) {
    const out = await submitBulk(ctx, items, meta);
    if (out.held) {
      heldBatch = out.batch.id;
      heldCount += out.batch.count;
      duplicate += out.batch.duplicate;
      invalid += out.invalid.length;
    } else {
      const count = (s: string) => out.results.filter((r) => r.status === s).length;
      accepted = count('accepted');
      duplicate += count('duplicate');
      invalid += count('invalid');
    }
  }
  return {
    ...base,
    found: read.leavers.length + read.invalid + read.repeated,
    new: accepted,
    rescheduled,
    withdrawn,
    duplicate,
    invalid,
    held: heldBatch,
    ...(heldCount > 0 ? { heldUsers: heldCount } : {}),
    window: {
      from: new Date(w.fromMs).toISOString(),
      to: new Date(w.toMs).toISOString(),
      readAt: new Date(now).toISOString(),
    },
    pages: read.pages,
    ...(mass
      ? {
          massWithdrawal: {
            count: withdrawals.length,
            threshold,
            blocked,
            ...(allowMassWithdrawalBy && !blocked ? { allowedBy: allowMassWithdrawalBy } : {}),
          },
        }
      : {}),
  };
}
