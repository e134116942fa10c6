// The dead-letter queue as records/ owns it: moving a job in (idempotent) and reading it back.
// Redrive and discard are intake's (test/intake/redrive.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { listDeadLetters, moveToDeadLetter } from '../../src/records/dead-letter.js';
import { testConfig } from '../helpers/config.js';
import { deadLetterFor } from '../helpers/dead-letter.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let ctx: QueueContext;

beforeAll(async () => {
  redis = await startRedis();
  ctx = createQueueContext(testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix }));
});
afterAll(async () => {
  await closeQueueContext(ctx);
  await redis.stop();
});

describe('dead-letter queue', () => {
  it('is idempotent: moving the same job twice keeps one dead letter', async () => {
    const { id, jobId } = await deadLetterFor(ctx, 'dl1@contoso.com', 'not_found');
    const job = await ctx.retire.getJob(jobId);
    await moveToDeadLetter(ctx, job!, {
      reason: 'not_found',
      lastStatus: 404,
      attempts: 1,
      throttledWaits: 0,
    });
    expect(id).toBe(`dl-${jobId}`);
    const list = await listDeadLetters(ctx);
    expect(list.items.filter((d) => d.originalJobId === jobId)).toHaveLength(1);
  });

  it('lists with a reason filter and paging', async () => {
    await deadLetterFor(ctx, 'dl2@contoso.com', 'forbidden');
    await deadLetterFor(ctx, 'dl3@contoso.com', 'forbidden');
    const forbidden = await listDeadLetters(ctx, { reason: 'forbidden' });
    expect(forbidden.total).toBe(2);
    expect(forbidden.items.every((d) => d.reason === 'forbidden')).toBe(true);
    const page = await listDeadLetters(ctx, { limit: 1, offset: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.total).toBe(3);
  });
});
