// The outcome policy: what a failed attempt means for its job, as one pure decision table. The
// processor carries the decision out (circuit, put back, dead letter, durable retry); this file only
// decides, so the table is tested row by row without Redis or Graph.

import { type RequestShape, SystemicFailureError } from '../control/circuit.js';
import { TokenAcquisitionError } from '../entra/errors.js';
import { InventoryForbiddenError, InventoryRejectedError } from '../evidence/inventory.js';
import {
  GraphBadRequestError,
  GraphError,
  GraphForbiddenError,
  GraphNotFoundError,
  type GraphThrottledError,
} from '../graph/errors.js';
import type { DeadLetterReason, RetireProgress } from '../interfaces.js';
import { PacerHoldError } from '../pacing/pacer.js';
import type { DeadLetterInfo } from '../records/dead-letter.js';
import { isTransient } from './retry-policy.js';

/** Too many throttled waits for one job (THROTTLE_WAIT_CAP). */
export class ThrottleCapError extends Error {
  override readonly name = 'ThrottleCapError';
  constructor(readonly last: GraphThrottledError) {
    super('throttled waits exhausted');
  }
}

export type FailureDecision =
  /** Systemic: open the circuit (pauses the queue) and put the job back without losing an attempt. */
  | { kind: 'trip'; code: string; reason: string }
  /** Back to the queue with its attempts untouched (circuit already open, or shutting down). */
  | { kind: 'put-back'; why: string }
  /** One user's 403: dead-lettered `forbidden`, unless 403s across users are systemic (circuit). */
  | { kind: 'forbidden'; error: GraphForbiddenError }
  /**
   * A 403 on the inventory READ: systemic across users → circuit `read_permission_missing`; else a
   * durable retry (a dead letter `forbidden` only on the last attempt).
   */
  | { kind: 'read-forbidden'; error: GraphForbiddenError }
  /**
   * A 400 (or another 4xx retrying cannot fix) for this request shape: refused for a share of the
   * users → circuit `request_rejected`, nobody dead-lettered; judged as this user's own → dead letter
   * `bad_request`; too few users called yet to tell → looked at once more a little later (no attempt
   * used), then this user's dead letter.
   */
  | { kind: 'rejected'; shape: RequestShape; error: GraphBadRequestError }
  | {
      kind: 'dead-letter';
      reason: DeadLetterReason;
      error: GraphError | null;
      message?: string;
      /** The budget ran out on an error that is not a known failure (worth an error log). */
      unexpected?: boolean;
    }
  /** A durable BullMQ retry after its backoff; `unexpected` when the error is not a known failure. */
  | { kind: 'retry'; unexpected: boolean };

export interface FailureContext {
  /** The worker is shutting down (SIGTERM): a job not failed by Graph goes back intact. */
  shuttingDown: boolean;
  /** This was the job's last durable attempt (JOB_ATTEMPTS). */
  lastAttempt: boolean;
}

/** The failure decision table (README, "How retries, throttling and dead letters work"). */
export function decideFailure(err: unknown, c: FailureContext): FailureDecision {
  if (err instanceof SystemicFailureError) return { kind: 'trip', code: err.code, reason: err.reason };
  if (err instanceof TokenAcquisitionError) {
    return {
      kind: 'trip',
      code: err.transient ? 'token_endpoint_unavailable' : err.code,
      reason: `token acquisition failed (${err.code}): ${err.message}`,
    };
  }
  if (err instanceof PacerHoldError) return { kind: 'put-back', why: 'circuit open' };
  if (c.shuttingDown && !(err instanceof GraphError)) return { kind: 'put-back', why: 'shutdown' };
  if (err instanceof ThrottleCapError)
    return { kind: 'dead-letter', reason: 'throttled_exhausted', error: err.last };
  if (err instanceof GraphNotFoundError) return { kind: 'dead-letter', reason: 'not_found', error: err };
  if (err instanceof GraphBadRequestError) return { kind: 'rejected', shape: 'retire', error: err };
  if (err instanceof InventoryRejectedError)
    return { kind: 'rejected', shape: 'inventory', error: err.graphError };
  if (err instanceof GraphForbiddenError) return { kind: 'forbidden', error: err };
  if (err instanceof InventoryForbiddenError) return { kind: 'read-forbidden', error: err.graphError };
  // Not a Graph answer and not a known transient failure: a bug or a surprise, worth an error log.
  const unexpected = !isTransient(err) && !(err instanceof GraphError);
  if (c.lastAttempt) {
    return {
      kind: 'dead-letter',
      reason: 'retries_exhausted',
      error: err instanceof GraphError ? err : null,
      message: (err as Error)?.message,
      ...(unexpected ? { unexpected } : {}),
    };
  }
  return { kind: 'retry', unexpected };
}

/** The one dead-letter record builder: the processor's and the worker's safety net use it alike. */
export function deadLetterInfo(
  progress: RetireProgress,
  reason: DeadLetterReason,
  error: GraphError | null,
  message?: string,
): DeadLetterInfo {
  const requestId = error?.requestId ?? progress.lastRequestId;
  const graphMessage = error?.graphMessage ?? message;
  return {
    reason,
    lastStatus: error ? error.status : progress.lastStatus,
    ...(error?.code ? { graphCode: error.code } : {}),
    ...(graphMessage ? { graphMessage } : {}),
    ...(requestId ? { requestId } : {}),
    attempts: progress.graphCalls,
    throttledWaits: progress.throttledWaits,
    ...(progress.firstAttemptAt ? { firstAttemptAt: progress.firstAttemptAt } : {}),
  };
}
