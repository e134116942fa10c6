// Redrive and discard (src/intake/redrive.ts): a new retire job through intake, the dead letter
// removed afterwards, both audited with the actor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discardDeadLetter, redriveDeadLetter } from '../../src/intake/redrive.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { userHistory } from '../../src/records/audit.js';
import { DeadLetterNotFoundError } from '../../src/records/dead-letter.js';
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

describe('redrive and discard', () => {
  it('redrive adds a new retire job, removes the dead letter and audits', async () => {
    const { id } = await deadLetterFor(ctx, 'dl4@contoso.com', 'not_found');
    // The original job is still pending in this test (it was never failed), so free the user first.
    const orig = await ctx.retire.getJob(id.slice(3));
    await orig?.remove();
    const r = await redriveDeadLetter(ctx, id, 'ops-alice');
    expect(r.duplicate).toBe(false);
    const job = await ctx.retire.getJob(r.jobId);
    expect(job?.data).toMatchObject({
      user: 'dl4@contoso.com',
      source: 'redrive',
      redrivenFrom: id,
      requestedBy: 'ops-alice',
    });
    await expect(redriveDeadLetter(ctx, id, 'ops-alice')).rejects.toBeInstanceOf(DeadLetterNotFoundError);
    const types = (await userHistory(ctx, 'dl4@contoso.com')).map((e) => e.type);
    expect(types).toEqual(['requested', 'dead-lettered', 'requested', 'redriven']);
  });

  it('discard removes it with an audit entry naming the actor', async () => {
    const { id } = await deadLetterFor(ctx, 'dl5@contoso.com', 'not_found');
    await discardDeadLetter(ctx, id, 'ops-bob', 'user never existed');
    await expect(discardDeadLetter(ctx, id, 'ops-bob')).rejects.toBeInstanceOf(DeadLetterNotFoundError);
    const last = (await userHistory(ctx, 'dl5@contoso.com')).at(-1);
    expect(last).toMatchObject({ type: 'discarded', actor: 'ops-bob' });
  });
});
