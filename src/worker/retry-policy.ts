// THE one place that decides how long to wait before trying a failed Graph call again: in-call
// retries (p-retry) and durable BullMQ attempts share the same full-jitter curve, and a server's
// Retry-After is a floor no delay may go under.
import type { BackoffStrategy } from 'bullmq';
import type { Options as RetryOptions } from 'p-retry';
import { TokenAcquisitionError } from '../entra/errors.js';
import { GraphError, GraphThrottledError, GraphTransientError } from '../graph/errors.js';
import { sleep } from '../pacing/sleep.js';

export const BACKOFF_TYPE = 'offboard';

export interface BackoffSettings {
  /** First retry waits up to this long (RETRY_BASE, default 1 s). */
  backoffBaseMs: number;
  /** No computed wait exceeds this (RETRY_CAP, default 5 min); Retry-After may. */
  backoffCapMs: number;
}

export interface RetrySettings extends BackoffSettings {
  /** p-retry retries inside one BullMQ attempt (RETRY_IN_CALL, default 2). */
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

/** Retry-After carried by a throttled or 5xx answer, when Graph sent one. */
export function retryAfterOf(err: unknown): number | undefined {
  if (err instanceof GraphThrottledError || err instanceof GraphTransientError) return err.retryAfterMs;
  return undefined;
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
  /** Aborts a pending backoff wait (shutdown, lost lock); p-retry then rejects with the reason. */
  signal?: AbortSignal;
  /** Called before each backoff wait, e.g. to count retries. */
  onRetry?: (info: { error: unknown; retry: number; delayMs: number }) => void | Promise<void>;
}

/**
 * p-retry options for transient errors inside one BullMQ attempt. p-retry's own exponential delay
 * is switched off (minTimeout 0) because it has no full jitter; the wait happens in shouldRetry,
 * which p-retry only consults when a retry is left. The signal is deliberately NOT given to p-retry:
 * it checks it after a successful call too, and a shutdown must never discard a call Graph applied.
 */
export function inCallRetryOptions(s: RetrySettings, hooks: InCallRetryHooks = {}): RetryOptions {
  return {
    retries: s.inCallRetries,
    minTimeout: 0,
    maxTimeout: 0,
    factor: 1,
    randomize: false,
    shouldRetry: async ({ error, retriesConsumed }) => {
      if (!isTransient(error)) return false;
      const delayMs = retryDelay(retriesConsumed, s, retryAfterOf(error));
      await hooks.onRetry?.({ error, retry: retriesConsumed, delayMs });
      await sleep(delayMs, hooks.signal);
      return true;
    },
  };
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
