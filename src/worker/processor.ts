// The retire job processor: pace, call, and turn every answer into exactly one outcome — completed
// with its record, retried (in-call, then durably), dead-lettered with a reason, or put back intact
// because the cause is systemic (circuit) or the worker is shutting down. With evidence on, the
// leaver's devices are read first (once per job, on the read budget): none → `no_devices`, no POST;
// the evidence record and its verification are in Redis before the job completes.
import { DelayedError, type Job, UnrecoverableError, WaitingError } from 'bullmq';
import type { Circuit } from '../control/circuit.js';
import { TokenAcquisitionError } from '../entra/errors.js';
import { type GraphTransport, graphContext } from '../graph/call.js';
import type { GraphError } from '../graph/errors.js';
import { holdIfOverDue } from '../guard/due.js';
import type {
  DeadLetterReason,
  GraphSuccess,
  Outcome,
  RetireJobData,
  RetireRecord,
  TokenProvider,
} from '../interfaces.js';
import type { Logger } from '../log.js';
import { emitOutcome, mayNotify } from '../notify/emit.js';
import { deadLetterOutcomeEvent, retireOutcomeEvent } from '../notify/events.js';
import type { Pacer } from '../pacing/pacer.js';
import { createReadPacer } from '../pacing/read-pacer.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import { moveToDeadLetter } from '../records/dead-letter.js';
import { incrementMetrics } from '../records/metrics.js';
import { type AttemptDeps, attemptCall, type JobRun } from './attempt.js';
import { untilAnswered } from './call-loop.js';
import { inventoryOnce, keepEvidence } from './inventory-step.js';
import { InvalidJobError, parseJobData, readProgress } from './job-data.js';
import { deadLetterInfo, decideFailure, ThrottleCapError } from './outcome-policy.js';

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

/** The job was dead-lettered: unrecoverable for BullMQ (no retry), already recorded by us. */
export class DeadLetteredError extends UnrecoverableError {
  constructor(
    readonly reason: DeadLetterReason,
    readonly deadLetterId: string,
  ) {
    super(`dead-lettered: ${reason}`);
  }
}

export function createProcessor(deps: ProcessorDeps): RetireProcessor {
  const { ctx, logger } = deps;
  const cfg = ctx.config.worker;
  const evidence = ctx.config.evidence;
  const readPacer = evidence.enabled
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
        { job, data: raw, progress: readProgress(job.progress) },
        'invalid_job',
        null,
        err.message,
      );
    }
    // The guard's last look before anything is read or retired (throws when it holds the job).
    await holdIfOverDue(ctx, job, data, token);
    const run: JobRun = { job, data, progress: readProgress(job.progress) };
    const dryRun = data.dryRun || cfg.dryRun;
    if (!readPacer && dryRun) return finish(run, 'dry_run', startedMs);

    // Shutdown stops waits (pacer, gates) but lets a call on the wire finish.
    const wait = deps.shutdown;
    try {
      if (readPacer) {
        // A dry run is inventoried too: it shows what WOULD be retired.
        const inventory = await inventoryOnce({ ctx, attemptDeps, reads: readPacer }, run, { wait });
        if (dryRun) return await finish(run, 'dry_run', startedMs);
        if (inventory.devices.length === 0 && !evidence.retireWhenNoDevices) {
          return await finish(run, 'no_devices', startedMs);
        }
      }
      const res = await callUntilDone(run, wait);
      return await finish(run, 'retired', startedMs, res);
    } catch (err) {
      return await handleFailure(run, err, token);
    }
  };

  /** The POST until Graph answers: in-call retries, throttled waits (capped), one 401 refresh. */
  function callUntilDone(run: JobRun, wait?: AbortSignal): Promise<GraphSuccess> {
    return untilAnswered(() => attemptCall(attemptDeps, run, { wait }), {
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

  async function handleFailure(run: JobRun, err: unknown, token?: string): Promise<RetireRecord> {
    const { job } = run;
    const decision = decideFailure(err, {
      shuttingDown: deps.shutdown?.aborted === true,
      lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
    });
    switch (decision.kind) {
      case 'trip':
        await deps.circuit.trip({ code: decision.code, reason: decision.reason });
        return putBack(run, token, `circuit: ${decision.code}`);
      case 'put-back':
        return putBack(run, token, decision.why);
      case 'forbidden':
        if (await deps.circuit.recordForbidden(run.data.user))
          return putBack(run, token, 'circuit: forbidden_many');
        return deadLetter(run, 'forbidden', decision.error);
      case 'read-forbidden':
        // Systemic (the read permission is missing): circuit, job back intact. One user's 403 (scope
        // tags): retried later like a transient failure; only its last attempt becomes a dead letter.
        if (await deps.circuit.recordReadForbidden(run.data.user))
          return putBack(run, token, 'circuit: read_permission_missing');
        if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          return deadLetter(
            run,
            'forbidden',
            decision.error,
            'Graph refused to list the devices of this user (403 on the inventory read)',
          );
        }
        await incrementMetrics(ctx.redis, ctx.prefix, { retries: 1 });
        throw err;
      case 'rejected': {
        const verdict = await deps.circuit.recordRejected(decision.shape, run.data.user, decision.error);
        if (verdict === 'systemic') return putBack(run, token, 'circuit: request_rejected');
        if (verdict === 'single' || run.progress.rejectedDeferred)
          return deadLetter(run, 'bad_request', decision.error);
        // Too few users called yet to tell this user's 400 from the product's: look once more a little
        // later, without using an attempt; still undecided then, it is a lone user's own 400.
        run.progress.rejectedDeferred = true;
        await job.updateProgress({ ...run.progress });
        await job.moveToDelayed(Date.now() + Math.min(cfg.forbiddenWindowMs / 4, 5000), token);
        throw new DelayedError();
      }
      case 'dead-letter':
        if (decision.unexpected) logUnexpected(run, err);
        return deadLetter(run, decision.reason, decision.error, decision.message);
      case 'retry':
        if (decision.unexpected) logUnexpected(run, err);
        await incrementMetrics(ctx.redis, ctx.prefix, { retries: 1 });
        logger.warn(
          {
            jobId: job.id,
            user: run.data.user,
            status: run.progress.lastStatus,
            attempt: job.attemptsMade + 1,
          },
          'retire attempt failed; BullMQ retries it after a backoff',
        );
        throw err;
    }
  }

  function logUnexpected(run: JobRun, err: unknown): void {
    logger.error(
      { err, jobId: run.job.id, user: run.data.user },
      'unexpected error while processing a retire job',
    );
  }

  /** Back to the queue with attempts untouched (moveToWait does not count an attempt). */
  async function putBack(run: JobRun, token: string | undefined, why: string): Promise<never> {
    logger.info({ jobId: run.job.id, user: run.data.user, why }, 'retire job put back in the queue');
    await run.job.moveToWait(token);
    throw new WaitingError();
  }

  async function deadLetter(
    run: JobRun,
    reason: DeadLetterReason,
    graphErr: GraphError | null,
    message?: string,
  ): Promise<never> {
    const p = run.progress;
    const info = deadLetterInfo(p, reason, graphErr, message);
    const id = await moveToDeadLetter(ctx, { id: run.job.id, data: run.data }, info, deps.actor);
    // Webhooks and a waiting Lifecycle Workflows run hear of it; in Redis before the job fails.
    if (mayNotify(ctx, run.data.callbackUriPath))
      await emitOutcome(ctx, deadLetterOutcomeEvent(run.job.id, run.data, info));
    await incrementMetrics(ctx.redis, ctx.prefix, { [`dead_letter:${reason}`]: 1 });
    logger.warn(
      {
        jobId: run.job.id,
        user: run.data.user,
        reason,
        lastStatus: graphErr?.status ?? p.lastStatus,
        deadLetterId: id,
      },
      'retire job dead-lettered',
    );
    throw new DeadLetteredError(reason, id);
  }

  async function finish(
    run: JobRun,
    outcome: Outcome,
    startedMs: number,
    res?: GraphSuccess,
  ): Promise<RetireRecord> {
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
    const details: Record<string, unknown> = {
      attempts: record.attempts,
      throttledWaits: record.throttledWaits,
      durationMs: record.durationMs,
    };
    if (requestId) details.requestId = requestId;
    if (inventory) details.devices = inventory.devices.length;
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
}
