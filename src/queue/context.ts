// The handles every producer and operator action needs: one Redis client and the two queues.
import { Queue } from 'bullmq';
import type { Config } from '../config/load.js';
import type { DeadLetterData, RetireJobData, RetireRecord } from '../interfaces.js';
import { createRedis, type RedisClient } from '../redis/connection.js';
import { DEAD_LETTER_QUEUE, RETIRE_QUEUE } from './names.js';

export interface QueueContext {
  config: Config;
  prefix: string;
  /** Client for our own keys (audit, circuit, pacing state, metrics). */
  redis: RedisClient;
  /**
   * The connection the BullMQ `Queue` objects use (same options as `redis`). Kept apart because
   * BullMQ defines its ~60 Lua commands on its connection and ioredis copies every defined command
   * onto each pipeline it creates: on a shared client every audit or metrics pipeline paid for that.
   * Other BullMQ queues (the sweep queue) should use this one too.
   */
  queueConnection: RedisClient;
  retire: Queue<RetireJobData, RetireRecord>;
  deadLetter: Queue<DeadLetterData>;
}

export interface QueueContextOptions {
  /** Workers reuse a blocking-tolerant connection; producers fail fast (503 rather than hang). */
  blocking?: boolean;
  name?: string;
}

export function createQueueContext(config: Config, opts: QueueContextOptions = {}): QueueContext {
  const redis = createRedis(config.redis, { blocking: opts.blocking, name: opts.name });
  const queueConnection = createRedis(config.redis, {
    blocking: opts.blocking,
    name: opts.name ? `${opts.name}-queues` : undefined,
  });
  const prefix = config.redis.prefix;
  // BullMQ's event stream is only for live dashboards here (records and audit are ours): keep it short.
  const streams = { events: { maxLen: 1000 } };
  const retire = new Queue<RetireJobData, RetireRecord>(RETIRE_QUEUE, {
    connection: queueConnection,
    prefix,
    streams,
  });
  const deadLetter = new Queue<DeadLetterData>(DEAD_LETTER_QUEUE, { connection: queueConnection, prefix });
  // Queue emits connection errors; the owner decides how to report them (readiness, 503s).
  retire.on('error', () => {});
  deadLetter.on('error', () => {});
  // Errors are reported by the owner through `redis` (readiness, 503s); this one only must not crash.
  queueConnection.on('error', () => {});
  // ioredis prints "Unhandled error event" for a client nobody listens to; owners read failures
  // from the commands themselves (fast 503s, readiness), so a silent listener is enough here.
  redis.on('error', () => {});
  return { config, prefix, redis, queueConnection, retire, deadLetter };
}

export async function closeQueueContext(ctx: QueueContext): Promise<void> {
  await Promise.allSettled([ctx.retire.close(), ctx.deadLetter.close()]);
  ctx.queueConnection.disconnect();
  ctx.redis.disconnect();
}
