// The retire job processor: pace, call, and turn every answer into exactly one outcome — completed
// with its record, retried (in-call, then durably), dead-lettered with a reason, or put back intact
// because the cause is systemic (circuit) or the worker is shutting down. With evidence on, the
// leaver's devices are read first (once per job, on the read budget): none → `no_devices`, no POST;
// the evidence record and its verification are in Redis before the job completes. The outcome steps
// have files of their own: complete.ts (the record), fail.ts (the failure's decision carried out),
// dead-letter-step.ts (the one dead-letter path, shared with the safety net).

import type { Job } from 'bullmq';
import { DelayedError } from 'bullmq';
import type { Circuit } from '../control/circuit.js';
import { TokenAcquisitionError } from '../entra/errors.js';
import { type GraphTransport, graphContext } from '../graph/call.js';
import { HeldByGuardError, holdIfOverDue } from '../guard/due.js';
import type { GraphSuccess, RetireJobData, RetireRecord, TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import type { Pacer } from '../pacing/pacer.js';
import { createReadPacer } from '../pacing/read-pacer.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { incrementMetrics } from '../records/metrics.js';
import { type AttemptDeps, attemptCall, type JobRun } from './attempt.js';
import { untilAnswered } from './call-loop.js';
import { complete } from './complete.js';
import { DeadLetteredError, deadLetter } from './dead-letter-step.js';
import { runDevicePolicy } from './device-policy-step.js';
import { handleFailure } from './fail.js';
import { inventoryOnce } from './inventory-step.js';
import { InvalidJobError, parseJobData, readProgress } from './job-data.js';
import { ThrottleCapError } from './outcome-policy.js';
import { type Dispatcher, TenantDeferError } from './tenant-port.js';

export interface ProcessorDeps {
  ctx: QueueContext;
  /** The write budget's pacer (the retire POSTs). */
  pacer: Pacer;
  tokenProvider: TokenProvider;
  actor: string;
  /** The HTTP exchange; default graph/transport's (benchmarks comparing transports pass another). */
  transport?: GraphTransport;
  circuit: Circuit;
  logger: Logger;
  /** Aborted on shutdown: jobs not in a Graph call go back to the queue without losing an attempt. */
  shutdown?: AbortSignal;
  /** The read budget's pacer (inventory reads). Default: one made from the context's config. */
  readPacer?: Pacer;
  /** With TENANTS_FILE: each job runs with its tenant's context, admitted without blocking (src/tenants/). */
  dispatcher?: Dispatcher;
}

/**
 * Two parameters on purpose: BullMQ creates an AbortController per job only for a processor that
 * declares a third (its cancellation signal). Nothing cancels an active retire job (cancel and
 * reschedule act on pending jobs), and the per-job signal showed in the worker's CPU profile.
 */
export type RetireProcessor = (
  job: Job<RetireJobData, RetireRecord>,
  token?: string,
) => Promise<RetireRecord>;

export function createProcessor(deps: ProcessorDeps): RetireProcessor {
  const { ctx } = deps;
  const cfg = ctx.config.worker;
  const evidence = ctx.config.evidence;
  // A device policy inventories every leaver (its plan needs the devices), evidence on or off.
  const readPacer =
    evidence.enabled || ctx.config.devicePolicy
      ? (deps.readPacer ?? createReadPacer({ redis: ctx.redis, prefix: ctx.prefix, config: ctx.config }))
      : undefined;
  // A token failure leaves MSAL replaying it for up to 60 s. Once an operator has resumed after it
  // (the resume generation moved on), the next token request starts from a clean MSAL client, also
  // for jobs that were mid-retry when the circuit opened. Generations, not clocks: hosts may skew.
  let failedInGeneration: number | null = null;
  const generation = async () => Number((await ctx.redis.get(keys.resumeGeneration(ctx.prefix))) ?? 0);
  const attemptDeps: AttemptDeps = {
    ctx,
    actor: deps.actor,
    graph: graphContext(
      ctx.config,
      {
        getToken(opts) {
          // The common case (no token failure since the last resume): no async wrapper, no Redis read.
          if (failedInGeneration === null) return deps.tokenProvider.getToken(opts).catch(noteFailure);
          return afterFailure(opts);
        },
      },
      deps.pacer,
      deps.transport,
    ),
  };
  async function noteFailure(err: unknown): Promise<never> {
    if (err instanceof TokenAcquisitionError && failedInGeneration === null) {
      failedInGeneration = await generation().catch(() => 0);
    }
    throw err;
  }
  /**
   * Graph refused a token without the permission: the cached one stays valid for up to an hour after
   * consent is granted again, so the first token after the operator's resume is a fresh one.
   */
  async function staleAfterResume(): Promise<void> {
    if (failedInGeneration === null) failedInGeneration = await generation().catch(() => 0);
  }
  /** After a token failure: forget it once an operator has resumed since, then ask again. */
  async function afterFailure(opts?: { forceRefresh?: boolean }): Promise<string> {
    if (failedInGeneration !== null && (await generation()) > failedInGeneration) {
      failedInGeneration = null;
      deps.tokenProvider.reset?.();
    }
    return deps.tokenProvider.getToken(opts).catch(noteFailure);
  }

  return async (job, token) => {
    const startedMs = Date.now();
    let data: RetireJobData;
    try {
      data = parseJobData(job.data);
    } catch (err) {
      if (!(err instanceof InvalidJobError)) throw err;
      const raw = (job.data ?? {}) as RetireJobData;
      return deadLetter(
        deps,
        { job, data: raw, progress: readProgress(job.progress) },
        'invalid_job',
        null,
        err.message,
      );
    }
    // The guard's last look before anything is read or retired (throws when it holds the job).
    await holdIfOverDue(ctx, job, data, token);
    const run: JobRun = { job, data, progress: readProgress(job.progress) };
    if (data.devicePolicy !== undefined && !ctx.config.devicePolicy) {
      // Asked for per-device actions this worker cannot plan: retiring every device instead would
      // act on devices the profile may leave alone. A human fixes the worker's DEVICE_POLICY_FILE.
      const why = `the job names device policy profile "${data.devicePolicy}" but this worker has no DEVICE_POLICY_FILE`;
      return deadLetter(deps, run, 'invalid_job', null, why);
    }
    // Many tenants: the job's tenant context, or the job is back in delayed/parked (DelayedError).
    let tenant: Awaited<ReturnType<Dispatcher['admit']>> | undefined;
    try {
      tenant = await deps.dispatcher?.admit(job, data, token);
    } catch (err) {
      if (!(err instanceof InvalidJobError)) throw err;
      return deadLetter(deps, run, 'invalid_job', null, err.message);
    }
    const calls = tenant?.attemptDeps ?? attemptDeps;
    const reads = tenant ? tenant.reads : readPacer;
    const dryRun = data.dryRun || cfg.dryRun;
    if (!readPacer && dryRun) return complete(deps, run, 'dry_run', startedMs);

    // Shutdown stops waits (pacer, gates) but lets a call on the wire finish.
    const wait = deps.shutdown;
    try {
      const policyReads = reads ?? readPacer;
      if (ctx.config.devicePolicy && policyReads) {
        const policyDeps = {
          ...deps,
          attemptDeps: calls,
          reads: policyReads,
          ...(tenant ? { circuit: tenant.circuit } : {}),
        };
        return await runDevicePolicy(policyDeps, run, {
          startedMs,
          dryRun,
          ...(wait ? { wait } : {}),
          ...(token ? { token } : {}),
        });
      }
      if (readPacer) {
        // A dry run is inventoried too: it shows what WOULD be retired.
        const inventory = await inventoryOnce({ ctx, attemptDeps: calls, reads: reads ?? readPacer }, run, {
          wait,
        });
        if (dryRun) return await complete(deps, run, 'dry_run', startedMs);
        if (inventory.devices.length === 0 && !evidence.retireWhenNoDevices) {
          return await complete(deps, run, 'no_devices', startedMs);
        }
      }
      const res = await callUntilDone(calls, run, wait);
      return await complete(deps, run, 'retired', startedMs, res);
    } catch (err) {
      // Already recorded (a device policy's `partial`, or its plan refused): nothing left to decide.
      if (err instanceof DeadLetteredError) throw err;
      // The wipe guard held the leaver for approval (or put the job off while held batches are full).
      if (err instanceof HeldByGuardError || err instanceof DelayedError) throw err;
      if (tenant && err instanceof TenantDeferError) return await tenant.defer(run, err, token);
      return await handleFailure(
        tenant ? { ...deps, circuit: tenant.circuit } : { ...deps, tokenStale: staleAfterResume },
        run,
        err,
        token,
      );
    }
  };

  /** The POST until Graph answers: in-call retries, throttled waits (capped), one 401 refresh. */
  function callUntilDone(calls: AttemptDeps, run: JobRun, wait?: AbortSignal): Promise<GraphSuccess> {
    return untilAnswered(() => attemptCall(calls, run, { wait }), {
      cfg,
      signal: wait,
      onRetry: () => incrementMetrics(ctx.redis, ctx.prefix, { retries: 1 }),
      onThrottledWait: (err) => {
        // The pacer's gate makes the next attempt wait; only the cap on waits can end this.
        if (run.progress.throttledWaits > cfg.throttleWaitCap) throw new ThrottleCapError(err);
      },
      unauthorizedReason:
        'Graph answered 401 even with a freshly acquired token (credential, tenant or consent problem)',
    });
  }
}
