// Graph calls per minute by outcome class, for the operator console's chart. One small hash per
// minute (`<prefix>:offboard:minute:<epoch minute>`, fields = classes) that expires on its own, so
// the history is bounded (MINUTE_RETENTION_MINUTES keys at most) and a worker pays one HINCRBY plus
// one EXPIRE per Graph call, sent as one pipeline and never awaited on the job's path.
import { ownKey } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';

/** How far back the chart can look: six hours of minutes. */
export const MINUTE_RETENTION_MINUTES = 360;

export const CALL_CLASSES = [
  'ok',
  'throttled',
  'server_error',
  'client_error',
  'timeout',
  'network',
] as const;
export type CallClass = (typeof CALL_CLASSES)[number];

export interface MinuteRow {
  /** Start of the minute (ms since the epoch). */
  at: number;
  counts: Record<CallClass, number>;
}

export function minuteKey(prefix: string, epochMinute: number): string {
  return ownKey(prefix, 'minute', String(epochMinute));
}

/** 2xx ok, 429 throttled, 5xx server error, other 4xx client error; no answer: timeout or network. */
export function callClass(status: number | string | null | undefined): CallClass {
  if (status === 'timeout') return 'timeout';
  const n = typeof status === 'number' ? status : Number(status);
  if (!Number.isInteger(n) || n < 100) return 'network';
  if (n === 429) return 'throttled';
  if (n >= 500) return 'server_error';
  if (n >= 400) return 'client_error';
  return 'ok';
}

/**
 * Counts one Graph call in the current minute. Fire and forget: a failed write only loses a point
 * of the chart, never a job (the error is swallowed on purpose).
 */
export function countGraphCallMinute(
  redis: RedisClient,
  prefix: string,
  status: number | string | null | undefined,
  now = Date.now(),
): void {
  const key = minuteKey(prefix, Math.floor(now / 60_000));
  try {
    redis
      .pipeline()
      .hincrby(key, callClass(status), 1)
      // The minute's key outlives the window by a minute, so a chart never reads a half-expired edge.
      .expire(key, (MINUTE_RETENTION_MINUTES + 1) * 60)
      .exec()
      .catch(() => undefined);
  } catch {
    // A closed connection throws synchronously: same answer, the chart just misses a point.
  }
}

/** The last `minutes` minutes (the current one included), oldest first, zeros where nothing ran. */
export async function readMinutes(
  redis: RedisClient,
  prefix: string,
  minutes = 180,
  now = Date.now(),
): Promise<MinuteRow[]> {
  const span = Math.min(MINUTE_RETENTION_MINUTES, Math.max(1, Math.floor(minutes)));
  const current = Math.floor(now / 60_000);
  const first = current - span + 1;
  const pipeline = redis.pipeline();
  for (let m = first; m <= current; m++) pipeline.hgetall(minuteKey(prefix, m));
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, value], i) => {
    if (err) throw err;
    const raw = (value ?? {}) as Record<string, string>;
    const counts = Object.fromEntries(CALL_CLASSES.map((c) => [c, Number(raw[c] ?? 0) || 0])) as Record<
      CallClass,
      number
    >;
    return { at: (first + i) * 60_000, counts };
  });
}

export function totalCalls(row: MinuteRow): number {
  return CALL_CLASSES.reduce((sum, c) => sum + row.counts[c], 0);
}
