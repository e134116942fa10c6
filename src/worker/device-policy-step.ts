// The retire processor's branch when DEVICE_POLICY_FILE is set (the per-device work is
// src/device-actions'; this file is its place in the job's life): inventory (read budget, with the
// fields the rules match on) → plan (once per job, kept in its progress and in Redis; a redrive takes
// the original job's) → each device's actions (execute.ts) → the outcome: `completed` when every
// device's actions are done or gone, else a dead letter `partial` naming the failed devices. A dry
// run plans only (outcome dry_run, the record lists each device × action as `planned`); no devices →
// `no_devices` as without a policy.

import type { Circuit } from '../control/circuit.js';
import type { CallLoop } from '../device-actions/calls.js';
import { executePlan } from '../device-actions/execute.js';
import { inheritFrom, savePlan, validPlan } from '../device-actions/store.js';
import { NoMatchingRuleError, planDevices, UnknownProfileError } from '../device-policy/plan.js';
import type { GraphThrottledError } from '../graph/errors.js';
import { holdIfOverWipeThreshold } from '../guard/wipe-hold.js';
import type { DeviceActionResult, DevicePlan, RetireRecord } from '../interfaces.js';
import type { Logger } from '../log.js';
import type { Pacer } from '../pacing/pacer.js';
import type { QueueContext } from '../queue/context.js';
import { incrementMetrics } from '../records/metrics.js';
import type { AttemptDeps, JobRun } from './attempt.js';
import { untilAnswered } from './call-loop.js';
import { complete } from './complete.js';
import { DeadLetteredError, deadLetter, recordDeadLetter } from './dead-letter-step.js';
import { inventoryOnce } from './inventory-step.js';
import { deadLetterInfo, ThrottleCapError } from './outcome-policy.js';

export interface PolicyStepDeps {
  ctx: QueueContext;
  actor: string;
  logger: Logger;
  circuit: Circuit;
  /** The processor's write context (resume-aware token provider, write pacer). */
  attemptDeps: AttemptDeps;
  reads: Pacer;
}

/** Runs the device policy for one job; returns the record, or throws (dead letter, retry, put back). */
export async function runDevicePolicy(
  deps: PolicyStepDeps,
  run: JobRun,
  opts: { startedMs: number; dryRun: boolean; wait?: AbortSignal; token?: string },
): Promise<RetireRecord> {
  const { ctx } = deps;
  const inventory = await inventoryOnce({ ctx, attemptDeps: deps.attemptDeps, reads: deps.reads }, run, {
    ...(opts.wait ? { wait: opts.wait } : {}),
  });
  const plan = await planOnce(deps, run, inventory.devices);
  run.devicePolicy = plan[0]?.profile ?? run.data.devicePolicy ?? ctx.config.devicePolicy?.default;
  if (opts.dryRun) {
    run.deviceActions = plan.flatMap((d) =>
      d.actions.map(
        (s): DeviceActionResult => ({ deviceId: d.deviceId, action: s.action, state: 'planned' }),
      ),
    );
    return complete(deps, run, 'dry_run', opts.startedMs);
  }
  if (plan.length === 0) return complete(deps, run, 'no_devices', opts.startedMs);
  // Wipes and deletes count in devices against GUARD_WIPE_THRESHOLD before any write (throws to hold).
  await holdIfOverWipeThreshold(ctx, run.job, run.data, plan, opts.token);
  const graph = deps.attemptDeps.graph;
  const results = await executePlan(
    {
      until: callLoop(deps, run, opts.wait),
      ctx,
      writes: graph,
      reads: { ...graph, pacer: deps.reads },
      actor: deps.actor,
      circuit: deps.circuit,
      ...(opts.wait ? { wait: opts.wait } : {}),
    },
    run,
    plan,
  );
  run.deviceActions = results;
  const failed = results.filter((r) => r.state === 'failed');
  if (failed.length === 0) return complete(deps, run, 'completed', opts.startedMs);
  return partial(deps, run, plan, results, failed);
}

/**
 * The retire's loop for the device actions: in-call retries, a 429 with Retry-After waits on the gate
 * (writes count toward THROTTLE_WAIT_CAP like the retire's; reads have their own cap per call), a
 * 401 a fresh token did not cure opens the circuit.
 */
function callLoop(deps: PolicyStepDeps, run: JobRun, wait?: AbortSignal): CallLoop {
  const cfg = deps.ctx.config.worker;
  return (attempt, budget) => {
    let readWaits = 0;
    return untilAnswered(attempt, {
      cfg,
      ...(wait ? { signal: wait } : {}),
      onRetry: () =>
        incrementMetrics(deps.ctx.redis, deps.ctx.prefix, {
          [budget === 'read' ? 'read_retries' : 'retries']: 1,
        }),
      onThrottledWait: (err: GraphThrottledError) => {
        const over =
          budget === 'read'
            ? ++readWaits > cfg.throttleWaitCap
            : run.progress.throttledWaits > cfg.throttleWaitCap;
        if (over) throw new ThrottleCapError(err);
      },
      unauthorizedReason:
        'Graph answered 401 to a device action even with a freshly acquired token (credential, tenant or consent problem)',
    });
  };
}

/** The job's plan: kept from an earlier run, inherited by a redrive, or made now from the inventory. */
async function planOnce(
  deps: PolicyStepDeps,
  run: JobRun,
  devices: Parameters<typeof planDevices>[2],
): Promise<DevicePlan[]> {
  const { ctx } = deps;
  const jobId = run.job.id ?? '';
  const retention = ctx.config.evidence.retentionMs;
  let plan =
    validPlan(run.progress.devicePlan) ??
    validPlan((run.job.progress as { devicePlan?: unknown })?.devicePlan);
  if (!plan && run.data.redrivenFrom) {
    plan = await inheritFrom(ctx.redis, ctx.prefix, originalJobId(run.data.redrivenFrom), jobId, retention);
  }
  if (!plan) {
    const policy = ctx.config.devicePolicy;
    if (!policy) throw new Error('runDevicePolicy called without a device policy');
    try {
      plan = planDevices(policy, run.data.devicePolicy, devices);
    } catch (err) {
      if (!(err instanceof UnknownProfileError || err instanceof NoMatchingRuleError)) throw err;
      // The policy file changed under a queued job (profile renamed, rule removed): a human decides.
      return deadLetter(deps, run, 'invalid_job', null, err.message);
    }
    await savePlan(ctx.redis, ctx.prefix, jobId, plan, retention);
  }
  run.progress.devicePlan = plan;
  await run.job.updateProgress({ ...run.progress });
  return plan;
}

/** `dl-<id>` (a redrive's `redrivenFrom`) → the dead-lettered job's id. */
function originalJobId(redrivenFrom: string): string {
  return redrivenFrom.startsWith('dl-') ? redrivenFrom.slice(3) : redrivenFrom;
}

/** Some devices failed: a dead letter `partial` with every result and the failed devices named. */
async function partial(
  deps: PolicyStepDeps,
  run: JobRun,
  plan: readonly DevicePlan[],
  results: DeviceActionResult[],
  failed: DeviceActionResult[],
): Promise<never> {
  const names = new Map(plan.map((d) => [d.deviceId, d.deviceName ?? d.deviceId]));
  const failedDevices = [...new Set(failed.map((r) => r.deviceId))];
  const what = failed
    .map((r) =>
      `${names.get(r.deviceId)} (${r.deviceId}) ${r.action} ${r.status ?? ''}: ${r.message ?? ''}`.trim(),
    )
    .join('; ');
  const message = `device actions failed on ${failedDevices.length} of ${plan.length} devices: ${what}`;
  const last = failed[failed.length - 1];
  const info = {
    ...deadLetterInfo(run.progress, 'partial', null, message),
    lastStatus: last?.status ?? null,
    ...(last?.graphCode ? { graphCode: last.graphCode } : {}),
    ...(last?.requestId ? { requestId: last.requestId } : {}),
    deviceActions: results,
    failedDevices,
  };
  const id = await recordDeadLetter(deps, { id: run.job.id, data: run.data }, info);
  deps.logger.warn(
    { jobId: run.job.id, user: run.data.user, reason: 'partial', failedDevices, deadLetterId: id },
    'retire job dead-lettered: some devices failed',
  );
  throw new DeadLetteredError('partial', id);
}
