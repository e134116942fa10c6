// The loop around one Graph exchange of a job, shared by the retire POST (processor.ts) and the device
// inventory read (inventory-step.ts): in-call retries for transient errors (the retry policy), a 429
// with Retry-After goes round again (the pacer's gate makes the next try wait) until the caller's cap
// says stop, and a 401 gets one fresh token before it counts as systemic (the circuit).
import pRetry from 'p-retry';
import type { Config } from '../config/load.js';
import { SystemicFailureError } from '../control/circuit.js';
import { GraphThrottledError, GraphUnauthorizedError } from '../graph/errors.js';
import { inCallRetryOptions } from './retry-policy.js';

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

/** Runs `attempt` until it answers; `attempt(true)` must fetch a fresh token (after a 401). */
export async function untilAnswered<T>(
  attempt: (forceRefresh: boolean) => Promise<T>,
  opts: CallLoopOptions,
): Promise<T> {
  let refreshed = false;
  let forceRefresh = false;
  for (;;) {
    try {
      return await pRetry(
        () => {
          // Only the first try after a 401 skips the token cache.
          const force = forceRefresh;
          forceRefresh = false;
          return attempt(force);
        },
        inCallRetryOptions(opts.cfg, { signal: opts.signal, onRetry: opts.onRetry }),
      );
    } catch (err) {
      if (err instanceof GraphThrottledError && err.retryAfterMs !== undefined) {
        opts.onThrottledWait(err);
        continue;
      }
      if (err instanceof GraphUnauthorizedError && !refreshed) {
        refreshed = true;
        forceRefresh = true;
        continue;
      }
      if (err instanceof GraphUnauthorizedError) {
        throw new SystemicFailureError('unauthorized', opts.unauthorizedReason, { cause: err });
      }
      throw err;
    }
  }
}
