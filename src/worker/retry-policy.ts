// THE one place that decides how long to wait before trying a failed Graph call again: in-call
// retries (retryInCall) and durable BullMQ attempts share the same full-jitter curve, and a server's
// Retry-After is a floor no delay may go under. The in-call loop is ours, not p-retry's: p-retry
// (7.1.1, the newest major on Node 20) computes its delay itself (`minTimeout·factor^n`, randomised
// by 1–2×), which can express neither full jitter nor a per-answer Retry-After floor (README,
// "How retries, throttling and dead letters work").
import type { BackoffStrategy } from 'bullmq';
import { TokenAcquisitionError } from '../entra/errors.js';
import { retryAfterOf } from '../graph/call.js';
import { GraphError, GraphThrottledError } from '../graph/errors.js';
import { sleep } from '../pacing/sleep.js';

export { retryAfterOf };

export const BACKOFF_TYPE = 'offboard';

export interface BackoffSettings {
  /** First retry waits up to this long (RETRY_BASE, default 1 s). */
  backoffBaseMs: number;
  /** No computed wait exceeds this (RETRY_CAP, default 5 min); Retry-After may. */
  backoffCapMs: number;
}

export interface RetrySettings extends BackoffSettings {
  /** Retries inside one BullMQ attempt (RETRY_IN_CALL, default 2). */
  inCallRetries: number;
}

/**
 * Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^retry)). Spreads a herd of
 * retrying jobs across the whole interval instead of synchronising them on its edge.
 * `retry` counts from 0 for the first retry.
 */
export function fullJitter(retry: number, s: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(s.backoffCapMs, s.backoffBaseMs * 2 ** Math.max(0, retry));
  return Math.floor(random() * ceiling);
}

/** The wait before retry number `retry`: full jitter, never shorter than the server's Retry-After. */
export function retryDelay(
  retry: number,
  s: BackoffSettings,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  return Math.max(fullJitter(retry, s, random), retryAfterMs ?? 0);
}

/**
 * Failures a later identical call may fix without anybody changing anything. A 429 WITH Retry-After
 * is not in this list: it is a throttled wait (global gate, own cap), not a failure.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof GraphThrottledError) return err.retryAfterMs === undefined;
  if (err instanceof TokenAcquisitionError) return err.transient;
  // Each Graph error class says whether a retry can help (the one classification, graph/errors.ts).
  return err instanceof GraphError && err.retryable;
}

export interface InCallRetryHooks {
  /** Aborts a pending backoff wait (shutdown, lost lock): the loop rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called before each backoff wait, e.g. to count retries. */
  onRetry?: (info: { error: unknown; retry: number; delayMs: number }) => void | Promise<void>;
}

/**
 * Runs `call` and retries transient failures inside one BullMQ attempt, at most `inCallRetries`
 * times, waiting retryDelay between tries. The signal only cuts a wait short: a call that Graph
 * answered is never discarded because a shutdown began meanwhile.
 */
export async function retryInCall<T>(
  call: () => Promise<T>,
  s: RetrySettings,
  hooks: InCallRetryHooks = {},
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await call();
    } catch (error) {
      if (retry >= s.inCallRetries || !isTransient(error)) throw error;
      const delayMs = retryDelay(retry, s, retryAfterOf(error));
      await hooks.onRetry?.({ error, retry, delayMs });
      await sleep(delayMs, hooks.signal);
    }
  }
}

/**
 * BullMQ `settings.backoffStrategy` for jobs added with `backoff: { type: 'offboard' }`. Durable
 * attempts continue the in-call curve (attempt 1 after 2 in-call retries waits up to base·2^2), so
 * a long outage is met with ever longer pauses, up to the cap.
 */
export function createBackoffStrategy(s: RetrySettings): BackoffStrategy {
  return (attemptsMade: number, _type?: string, err?: Error) =>
    retryDelay(s.inCallRetries + Math.max(0, attemptsMade - 1), s, retryAfterOf(err));
}
