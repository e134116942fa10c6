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
