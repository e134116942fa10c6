// The loop around one Graph call of a job, shared by the retire POST (processor.ts) and the device
// inventory read (inventory-step.ts): in-call retries for transient errors (the retry policy), a 429
// with Retry-After goes round again (the pacer's gate makes the next try wait) until the caller's cap
// says stop, and a 401 that a fresh token did not cure (graphCall refreshes once) is systemic.
import type { Config } from '../config/load.js';
import { SystemicFailureError } from '../control/circuit.js';
import { GraphThrottledError, GraphUnauthorizedError } from '../graph/errors.js';
import { retryInCall } from './retry-policy.js';

export interface CallLoopOptions {
  cfg: Config['worker'];
  /** Shutdown: stops waiting between tries. */
  signal?: AbortSignal;
  /** Counts an in-call retry (metrics). */
  onRetry: () => void | Promise<void>;
  /** A 429 with Retry-After: return to go round again, throw to stop (the caller's cap). */
  onThrottledWait: (err: GraphThrottledError) => void;
  /** What the circuit says when a fresh token still gets 401. */
  unauthorizedReason: string;
}

/** Runs `attempt` until it answers, a cap ends it or the failure is not transient. */
export async function untilAnswered<T>(attempt: () => Promise<T>, opts: CallLoopOptions): Promise<T> {
  for (;;) {
    try {
      return await retryInCall(attempt, opts.cfg, { signal: opts.signal, onRetry: opts.onRetry });
    } catch (err) {
      if (err instanceof GraphThrottledError && err.retryAfterMs !== undefined) {
        opts.onThrottledWait(err);
        continue;
      }
      if (err instanceof GraphUnauthorizedError) {
        throw new SystemicFailureError('unauthorized', opts.unauthorizedReason, { cause: err });
      }
      throw err;
    }
  }
}
