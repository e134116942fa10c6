// The retire processor's evidence steps (EVIDENCE=on): the inventory before the action, read once per
// job with the same retry rules as the POST but on the READ budget, and the evidence record (plus its
// first verification check) written before the job completes.
import {
  evidenceRecord,
  InventoryForbiddenError,
  InventoryRejectedError,
  savedInventory,
  takeInventory,
} from '../evidence/inventory.js';
import { scheduleVerification } from '../evidence/schedule.js';
import { saveEvidence } from '../evidence/store.js';
import { GraphBadRequestError, GraphForbiddenError } from '../graph/errors.js';
import type { DeviceInventory, GraphSuccess, Outcome } from '../interfaces.js';
import type { Pacer } from '../pacing/pacer.js';
import type { QueueContext } from '../queue/context.js';
import { incrementMetrics } from '../records/metrics.js';
import type { AttemptDeps, JobRun } from './attempt.js';
import { untilAnswered } from './call-loop.js';

export interface InventoryStepDeps {
  ctx: QueueContext;
  /** The processor's attempt deps: its call context (resume-aware token provider) and actor. */
  attemptDeps: AttemptDeps;
  /** The READ budget's pacer. */
  reads: Pacer;
}

/**
 * The leaver's devices, read once per job: an earlier run's inventory (kept in the job's progress) is
 * reused, so a retried POST never reads again. In-call retries for transient read failures; a read
 * 429 waits on the READ gate (never counted as a throttled wait of the write budget); one 401 refresh,
 * then the circuit (graphCall refreshes once); a 403 becomes InventoryForbiddenError (judged by the read-permission circuit).
 */
export async function inventoryOnce(
  deps: InventoryStepDeps,
  run: JobRun,
  signals: { wait?: AbortSignal; cancel?: AbortSignal } = {},
): Promise<DeviceInventory> {
  const { ctx } = deps;
  const cfg = ctx.config.worker;
  const saved = run.progress.inventory ?? savedInventory(run.job.progress);
  if (saved) {
    run.progress.inventory = saved;
    return saved;
  }
  const target = { jobId: run.job.id ?? '', user: run.data.user, correlationId: run.data.correlationId };
  const { attemptDeps } = deps;
  // The write context with the read pacer: same token provider, circuit and transport.
  const inventoryDeps = { ...attemptDeps, graph: { ...attemptDeps.graph, pacer: deps.reads } };
  let throttled = 0;
  try {
    const inventory = await untilAnswered(
      () => takeInventory(inventoryDeps, target, { wait: signals.wait, call: signals.cancel }),
      {
        cfg,
        signal: signals.wait,
        onRetry: () => incrementMetrics(ctx.redis, ctx.prefix, { read_retries: 1 }),
        onThrottledWait: (err) => {
          // The read gate makes the next read wait; a cap keeps a job from looping on it forever.
          if (++throttled > cfg.throttleWaitCap) throw err;
        },
        unauthorizedReason:
          'Graph answered 401 to the device inventory read even with a freshly acquired token (credential, tenant or consent problem)',
      },
    );
    run.progress.inventory = inventory;
    await run.job.updateProgress({ ...run.progress });
    return inventory;
  } catch (err) {
    if (err instanceof GraphForbiddenError) throw new InventoryForbiddenError(err);
    if (err instanceof GraphBadRequestError) throw new InventoryRejectedError(err);
    throw err;
  }
}

/**
 * The evidence record and (retired with devices) its first verification check, durable before the
 * job completes. A crash before completion reruns this idempotently: same record key, same
 * `verify-<jobId>` job id.
 */
export async function keepEvidence(
  ctx: QueueContext,
  run: JobRun,
  outcome: Outcome,
  inventory: DeviceInventory,
  res?: GraphSuccess,
): Promise<void> {
  const record = evidenceRecord({
    jobId: run.job.id ?? '',
    data: run.data,
    inventory,
    outcome,
    ...(res
      ? {
          action: {
            at: run.actionAt ?? new Date(Date.now() - res.durationMs).toISOString(),
            ...(res.requestId ? { requestId: res.requestId } : {}),
            status: res.status,
          },
        }
      : {}),
    config: ctx.config,
    // A device policy's plan and per-device results travel with the evidence; evidenceRecord starts
    // their verification (one check per device × action, src/evidence/verification-actions.ts).
    ...(run.deviceActions ? { deviceActions: run.deviceActions } : {}),
    ...(run.deviceActions && run.progress.devicePlan ? { devicePlan: run.progress.devicePlan } : {}),
  });
  // Independent and idempotent: one round trip of waiting, not two.
  await Promise.all([
    saveEvidence(ctx.redis, ctx.prefix, record, ctx.config.evidence.retentionMs),
    scheduleVerification(ctx, record, ctx.config),
  ]);
}
