// Creates ioredis clients for BullMQ and for our own keys, for a single node or a Cluster.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/load.js';
import { redisCredentials } from '../config/redis-url.js';

export type RedisClient = Redis | Cluster;

export interface ConnectionOptions {
  /** BullMQ workers need `maxRetriesPerRequest: null`; producers want fast failure (default 1). */
  blocking?: boolean;
  /** Name shown in CLIENT LIST, handy when several processes share one Redis. */
  name?: string;
}

/**
 * Producers must fail fast when Redis is down (answer 503, never a false 202): a command is
 * given up after one reconnection attempt. Workers retry forever and reconnect by themselves.
 */
export function createRedis(config: Config['redis'], opts: ConnectionOptions = {}): RedisClient {
  const common: RedisOptions = {
    connectionName: opts.name,
    maxRetriesPerRequest: opts.blocking ? null : 1,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
  };
  if (config.clusterNodes) return createCluster(config, common, opts);
  return new Redis(config.url, common);
}

function createCluster(config: Config['redis'], common: RedisOptions, opts: ConnectionOptions): Cluster {
  const { username, password } = redisCredentials(config.url);
  const tls = /^rediss(\+cluster)?:/.test(config.url);
  const cluster = new Cluster(config.clusterNodes ?? [], {
    redisOptions: {
      ...common,
      username,
      password,
      tls: tls ? {} : undefined,
    },
    // TLS certificates name hosts, not the IPs the cluster announces: keep the name for SNI.
    dnsLookup: tls ? (address, callback) => callback(null, address) : undefined,
    clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
  });
  if (!opts.blocking) {
    // A Cluster client queues commands while it has no node at all and never gives up on them,
    // which would hang a producer instead of answering 503. The queue is useful only until the
    // first connection (so commands issued right after creation wait for it); after that,
    // commands during an outage must fail at once.
    cluster.once('ready', () => {
      cluster.options.enableOfflineQueue = false;
    });
  }
  return cluster;
}

/** Cluster credentials come from REDIS_URL's user-info (see config/redis-url.ts). */
export { redisCredentials as clusterCredentials } from '../config/redis-url.js';
