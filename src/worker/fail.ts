// The failed run of a retire job, as BullMQ's worker hands a failed job to handleFailed: the policy's
// decision (outcome-policy.ts) carried out — trip the circuit and put the job back, put it back
// (shutdown), dead-letter it, defer a lone 400 once, or rethrow so BullMQ retries after a backoff.
import { DelayedError, WaitingError } from 'bullmq';
import type { Circuit } from '../control/circuit.js';
import { permissionRefusal } from '../control/permission-refusal.js';
import type { RetireRecord } from '../interfaces.js';
import { incrementMetrics } from '../records/metrics.js';
import type { JobRun } from './attempt.js';
import { type DeadLetterDeps, deadLetter } from './dead-letter-step.js';
import { decideFailure } from './outcome-policy.js';

export interface FailDeps extends DeadLetterDeps {
  circuit: Circuit;
  /** Aborted on shutdown: the job goes back to the queue without losing an attempt. */
  shutdown?: AbortSignal;
  /** The token Graph refused lacks the permission: take a fresh one after the next resume. */
  tokenStale?: () => Promise<void>;
}

/** Never resolves normally: every branch ends the run by throwing BullMQ's signal or the error. */
export async function handleFailure(
  deps: FailDeps,
  run: JobRun,
  err: unknown,
  token?: string,
): Promise<RetireRecord> {
  const { ctx, logger } = deps;
  const { job } = run;
  const decision = decideFailure(err, {
    shuttingDown: deps.shutdown?.aborted === true,
    lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
  });
  switch (decision.kind) {
    case 'trip':
      await deps.circuit.trip({ code: decision.code, reason: decision.reason });
      return putBack(deps, run, token, `circuit: ${decision.code}`);
    case 'put-back':
      return putBack(deps, run, token, decision.why);
    case 'forbidden': {
      const refusal = permissionRefusal(decision.error);
      if (refusal) {
        await deps.tokenStale?.();
        await deps.circuit.trip(refusal);
        return putBack(deps, run, token, `circuit: ${refusal.code}`);
      }
      if (await deps.circuit.recordForbidden(run.data.user))
        return putBack(deps, run, token, 'circuit: forbidden_many');
      return deadLetter(deps, run, 'forbidden', decision.error);
    }
    case 'read-forbidden':
      // Systemic (the read permission is missing): circuit, job back intact. One user's 403 (scope
      // tags): retried later like a transient failure; only its last attempt becomes a dead letter.
      if (await deps.circuit.recordReadForbidden(run.data.user))
        return putBack(deps, run, token, 'circuit: read_permission_missing');
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        return deadLetter(
          deps,
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
      if (verdict === 'systemic') return putBack(deps, run, token, 'circuit: request_rejected');
      if (verdict === 'single' || run.progress.rejectedDeferred)
        return deadLetter(deps, run, 'bad_request', decision.error);
      // Too few users called yet to tell this user's 400 from the product's: look once more a little
      // later, without using an attempt; still undecided then, it is a lone user's own 400.
      run.progress.rejectedDeferred = true;
      await job.updateProgress({ ...run.progress });
      await job.moveToDelayed(Date.now() + Math.min(ctx.config.worker.forbiddenWindowMs / 4, 5000), token);
      throw new DelayedError();
    }
    case 'dead-letter':
      if (decision.unexpected) logUnexpected(deps, run, err);
      return deadLetter(deps, run, decision.reason, decision.error, decision.message);
    case 'retry':
      if (decision.unexpected) logUnexpected(deps, run, err);
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

function logUnexpected(deps: FailDeps, run: JobRun, err: unknown): void {
  deps.logger.error(
    { err, jobId: run.job.id, user: run.data.user },
    'unexpected error while processing a retire job',
  );
}

/** Back to the queue with attempts untouched (moveToWait does not count an attempt). */
async function putBack(deps: FailDeps, run: JobRun, token: string | undefined, why: string): Promise<never> {
  deps.logger.info({ jobId: run.job.id, user: run.data.user, why }, 'retire job put back in the queue');
  await run.job.moveToWait(token);
  throw new WaitingError();
}
