// The simulator's smallest shapes (throttling windows, scripted answers), a leaf file: types.ts
// re-exports them for the public API, while the books under graph/ import them from here, so
// types.ts ⇄ graph/devices.ts is no file circle.

export type RetryAfterFormat = 'seconds' | 'fractional' | 'http-date' | 'none';

export interface WindowLimit {
  /** Calls admitted within any `windowMs` span. */
  limit: number;
  windowMs: number;
}

export interface AppLimit extends WindowLimit {
  /** How the 429 announces the wait (default `seconds`, rounded up). */
  retryAfter?: RetryAfterFormat;
}

/** One scripted answer for a user: a status, or a richer step. */
export type ScriptStep = number | { status: number; retryAfter?: string; hang?: boolean; delayMs?: number };
