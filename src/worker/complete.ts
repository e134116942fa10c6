// The completed outcome of a retire job (retired, no_devices, dry_run), as BullMQ's worker hands a
// finished job to handleCompleted: the record returned to BullMQ, the evidence, the audit entry, the
// fleet counter and the outcome notifications, all in Redis before the job completes.
import type { GraphSuccess, Outcome, RetireRecord } from '../interfaces.js';
import { emitOutcome, mayNotify } from '../notify/emit.js';
import { retireOutcomeEvent } from '../notify/events.js';
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { incrementMetrics } from '../records/metrics.js';
import type { JobRun } from './attempt.js';
import { keepEvidence } from './inventory-step.js';

export interface CompleteDeps {
  ctx: QueueContext;
  actor: string;
}

/** Records the outcome and returns the job's record. Runs for every job: keep it lean. */
export async function complete(
  deps: CompleteDeps,
  run: JobRun,
  outcome: Outcome,
  startedMs: number,
  res?: GraphSuccess,
): Promise<RetireRecord> {
  const { ctx } = deps;
  const p = run.progress;
  const inventory = p.inventory;
  const finishedAt = new Date().toISOString();
  const since = p.firstAttemptAt ? Date.parse(p.firstAttemptAt) : startedMs;
  const requestId = res?.requestId ?? p.lastRequestId;
  // Plain assignments, not conditional spreads: this runs for every job (the worker's CPU profile).
  const record: RetireRecord = {
    outcome,
    user: run.data.user,
    attempts: p.graphCalls,
    throttledWaits: p.throttledWaits,
    durationMs: Math.max(0, Date.now() - since),
    finishedAt,
    requestedBy: run.data.requestedBy,
    correlationId: run.data.correlationId,
    dryRun: outcome === 'dry_run',
  };
  if (requestId) record.requestId = requestId;
  if (inventory) record.devices = inventory.devices.length;
  if (run.deviceActions) record.deviceActions = run.deviceActions;
  if (run.devicePolicy) record.devicePolicy = run.devicePolicy;
  const details: Record<string, unknown> = {
    attempts: record.attempts,
    throttledWaits: record.throttledWaits,
    durationMs: record.durationMs,
  };
  if (requestId) details.requestId = requestId;
  if (inventory) details.devices = inventory.devices.length;
  if (run.devicePolicy) details.devicePolicy = run.devicePolicy;
  await Promise.all([
    inventory ? keepEvidence(ctx, run, outcome, inventory, res) : undefined,
    appendAudit(ctx, [
      ...(run.pendingAudit ?? []),
      {
        type: outcome,
        actor: deps.actor,
        at: finishedAt,
        jobId: run.job.id,
        user: run.data.user,
        correlationId: run.data.correlationId,
        details,
      },
    ]),
    incrementMetrics(ctx.redis, ctx.prefix, { [`outcome:${outcome}`]: 1 }),
  ]);
  // Outcome notifications are in Redis before the job completes: a crash now re-emits the same ids.
  if (mayNotify(ctx, run.data.callbackUriPath))
    await emitOutcome(ctx, retireOutcomeEvent(run.job.id, run.data, record));
  return record;
}
