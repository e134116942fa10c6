// The read budget's pacer: device inventory, verification re-reads and Entra user queries share it
// across every process. Same scheme as the write pacer (GCRA in Redis, global Retry-After gate,
// adaptive factor) on its OWN keys and rate (GRAPH_READ_RATE_LIMIT): Intune counts reads apart from
// writes (device reads 2,000 per 20 s per app, writes 200), so a 429 on a read gates reads only and
// a read never takes a write slot. The circuit holds reads too: when it is open nothing calls Graph.
import type { Config } from '../config/load.js';
import type { RedisClient } from '../redis/connection.js';
import { createPacer, type Pacer, type PacerOptions } from './pacer.js';

export interface ReadPacerOptions {
  redis: RedisClient;
  prefix: string;
  config: Pick<Config, 'graph' | 'worker'>;
  /** Overrides for tests (e.g. a shorter maxSleepMs); rate, keys and budget come from config. */
  tuning?: Omit<PacerOptions, 'redis' | 'prefix' | 'rate' | 'budget'>;
}

export function createReadPacer(opts: ReadPacerOptions): Pacer {
  const { graph, worker } = opts.config;
  return createPacer({
    headroom: graph.rateHeadroom,
    failure: {
      windowMs: worker.failureWindowMs,
      share: worker.failureShare,
      minUsers: worker.failureMinUsers,
    },
    // The read-403 judge (read_permission_missing) counts users read within the 403 window.
    healthKeepMs: worker.forbiddenWindowMs,
    ...opts.tuning,
    redis: opts.redis,
    prefix: opts.prefix,
    rate: graph.readRateLimit,
    budget: 'read',
  });
}
