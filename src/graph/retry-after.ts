// Retry-After as Graph sends it: integer seconds, fractional seconds (`2.128`), or an HTTP-date.

/** Longest wait we accept from a server; anything longer is clamped (a bogus header must not park the queue for days). */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

const SECONDS = /^\d+(\.\d+)?$/;
const FRACTION_ONLY = /^\.\d+$/;

/**
 * Returns the wait in milliseconds, or undefined when the header is absent or unusable
 * (garbage, negative). An HTTP-date in the past yields 0. Capped at MAX_RETRY_AFTER_MS.
 */
export function parseRetryAfter(
  header: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (SECONDS.test(value) || FRACTION_ONLY.test(value)) {
    const ms = Math.round(Number(value) * 1000);
    return Number.isFinite(ms) ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
  }
  // Only text that looks like a date: Date.parse would also accept "-1" or "5 ms".
  if (!/^[A-Za-z]{3,9},?\s/.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}
