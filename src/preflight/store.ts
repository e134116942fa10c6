// The latest report, kept so the console's overview can show it without calling Graph on every view.
// A record beside the queues, never in them; it expires so a months-old "ready" is not shown as current.
import { ownKey } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';
import type { PreflightReport } from './types.js';

const KEEP_SECONDS = 30 * 86_400;

export interface StoredReport extends PreflightReport {
  /** Who ran it: an API key name. */
  actor: string;
}

export function preflightKey(prefix: string): string {
  return ownKey(prefix, 'preflight', 'last');
}

export async function saveReport(redis: RedisClient, prefix: string, report: StoredReport): Promise<void> {
  await redis.set(preflightKey(prefix), JSON.stringify(report), 'EX', KEEP_SECONDS);
}

export async function lastReport(redis: RedisClient, prefix: string): Promise<StoredReport | null> {
  const raw = await redis.get(preflightKey(prefix));
  if (!raw) return null;
  try {
    return JSON.parse(raw) as StoredReport;
  } catch {
    return null;
  }
}
