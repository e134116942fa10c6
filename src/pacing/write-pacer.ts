// The write budget's pacer from configuration: the retire POSTs (and the Lifecycle Workflows resume
// calls) share it across every process, at GRAPH_RATE_LIMIT, on the keys the status pages read.
import type { Config } from '../config/load.js';
import type { RedisClient } from '../redis/connection.js';
import { createPacer, type Pacer, type PacerOptions } from './pacer.js';

export interface WritePacerOptions {
  redis: RedisClient;
  prefix: string;
  config: Pick<Config, 'graph' | 'worker'>;
  /** Overrides (e.g. `holdKey: null` for calls the circuit must not hold); rate and keys come from config. */
  tuning?: Omit<PacerOptions, 'redis' | 'prefix' | 'rate' | 'budget'>;
}

export function createWritePacer(opts: WritePacerOptions): Pacer {
  const { graph, worker } = opts.config;
  return createPacer({
    headroom: graph.rateHeadroom,
    failure: {
      windowMs: worker.failureWindowMs,
      share: worker.failureShare,
      minUsers: worker.failureMinUsers,
    },
    // The 403 judge (forbidden_many) counts users called within the 403 window.
    healthKeepMs: worker.forbiddenWindowMs,
    ...opts.tuning,
    redis: opts.redis,
    prefix: opts.prefix,
    rate: graph.rateLimit,
    budget: 'write',
  });
}
