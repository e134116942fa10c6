// A pacer for one Graph budget (write or read) from configuration: the same headroom, failure judge
// and 403-window keep for both; only the rate and the budget's keys differ.
import type { Config } from '../config/load.js';
import type { RedisClient } from '../redis/connection.js';
import { createPacer, type Pacer, type PacerOptions } from './pacer.js';

export interface BudgetPacerOptions {
  redis: RedisClient;
  prefix: string;
  config: Pick<Config, 'graph' | 'worker'>;
  /** Overrides (e.g. `holdKey: null`, a shorter maxSleepMs in tests); rate, keys and budget come from config. */
  tuning?: Omit<PacerOptions, 'redis' | 'prefix' | 'rate' | 'budget'>;
}

export function createBudgetPacer(opts: BudgetPacerOptions, budget: 'write' | 'read'): Pacer {
  const { graph, worker } = opts.config;
  return createPacer({
    headroom: graph.rateHeadroom,
    failure: {
      windowMs: worker.failureWindowMs,
      share: worker.failureShare,
      minUsers: worker.failureMinUsers,
    },
    // The 403 judges (forbidden_many, read_permission_missing) count users called within the 403 window.
    healthKeepMs: worker.forbiddenWindowMs,
    ...opts.tuning,
    redis: opts.redis,
    prefix: opts.prefix,
    rate: budget === 'write' ? graph.rateLimit : graph.readRateLimit,
    budget,
  });
}

/**
 * The largest catch-up (GCRA tolerance, in intervals) that still keeps every window of the limit at or
 * under it: n calls fit in one window when (n − 1 − catchUp) intervals ≤ the window, so with
 * interval = window ÷ (limit × headroom) the window holds at most ⌊limit × headroom + catchUp⌋ + 1
 * calls, which stays ≤ limit while catchUp < limit × (1 − headroom). 80 % of that, at most half an
 * interval: a job woken by BullMQ a few tens of ms late then keeps its tenant's grid instead of
 * pushing every later turn back (at 20 per 2 s: 0.48 of an interval, ~50 ms).
 */
export function safeCatchUp(limit: number, headroom: number): number {
  return Math.min(0.5, Math.max(0.05, 0.8 * limit * (1 - headroom)));
}
