// Creates ioredis clients for BullMQ and for our own keys, for a single node or a Cluster.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/load.js';

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
  if (config.clusterNodes) {
    const u = safeUrl(config.url);
    return new Cluster(config.clusterNodes, {
      redisOptions: {
        ...common,
        username: u?.username || undefined,
        password: u?.password ? decodeURIComponent(u.password) : undefined,
        tls: config.url.startsWith('rediss') ? {} : undefined,
      },
      clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
    });
  }
  return new Redis(config.url, common);
}

function safeUrl(text: string): URL | null {
  try {
    return new URL(text.replace(/^rediss?\+cluster:/, 'redis:'));
  } catch {
    return null;
  }
}
