// Opens the queue context for one CLI command and always closes it, so the process exits by
// itself. Redis is pinged first: BullMQ waits for a connection indefinitely, and an operator
// command against an unreachable Redis must fail within a second, in one line (exit 1).
import { redact } from '../config/load.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../queue/context.js';
import { CommandFailedError } from './errors.js';
import { config } from './run.js';

export async function withQueueContext<T>(fn: (ctx: QueueContext) => Promise<T>): Promise<T> {
  const cfg = config();
  const ctx = createQueueContext(cfg, { name: 'offboard-cli' });
  try {
    try {
      await ctx.redis.ping();
    } catch {
      throw new CommandFailedError(`Redis at ${redact(cfg.redis.url)} is unreachable`);
    }
    return await fn(ctx);
  } finally {
    await closeQueueContext(ctx);
  }
}
