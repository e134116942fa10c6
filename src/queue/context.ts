// The handles every producer and operator action needs: one Redis client and the two queues.
import { Queue } from 'bullmq';
import type { Config } from '../config/load.js';
import type { DeadLetterData, RetireJobData, RetireRecord } from '../interfaces.js';
import { createRedis, type RedisClient } from '../redis/connection.js';
import { DEAD_LETTER_QUEUE, RETIRE_QUEUE } from './names.js';

export interface QueueContext {
  config: Config;
  prefix: string;
  /** Fail-fast client for our own keys (audit, circuit, pacing state). */
  redis: RedisClient;
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
  const prefix = config.redis.prefix;
  // BullMQ's event stream is only for live dashboards here (records and audit are ours): keep it short.
  const streams = { events: { maxLen: 1000 } };
  const retire = new Queue<RetireJobData, RetireRecord>(RETIRE_QUEUE, { connection: redis, prefix, streams });
  const deadLetter = new Queue<DeadLetterData>(DEAD_LETTER_QUEUE, { connection: redis, prefix });
  // Queue emits connection errors; the owner decides how to report them (readiness, 503s).
  retire.on('error', () => {});
  deadLetter.on('error', () => {});
  return { config, prefix, redis, retire, deadLetter };
}

export async function closeQueueContext(ctx: QueueContext): Promise<void> {
  await Promise.allSettled([ctx.retire.close(), ctx.deadLetter.close()]);
  ctx.redis.disconnect();
}
