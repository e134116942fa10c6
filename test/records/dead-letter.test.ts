import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { getQueueStatus, openCircuit, pauseQueue, resumeQueue } from '../../src/queue/control.js';
import { readAudit, userHistory } from '../../src/records/audit.js';
import {
  DeadLetterNotFoundError,
  discardDeadLetter,
  listDeadLetters,
  moveToDeadLetter,
  redriveDeadLetter,
} from '../../src/records/dead-letter.js';
import { testConfig } from '../helpers/config.js';
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

async function deadLetter(user: string, reason: 'not_found' | 'forbidden') {
  const r = await enqueue(ctx, { user }, { requestedBy: 'hr', source: 'api' });
  const job = await ctx.retire.getJob(r.id);
  if (!job) throw new Error('job missing');
  const info = {
    reason,
    lastStatus: reason === 'not_found' ? 404 : 403,
    requestId: 'req-1',
    attempts: 1,
    throttledWaits: 0,
  };
  const id = await moveToDeadLetter(ctx, job, info);
  return { id, jobId: r.id };
}

describe('dead-letter queue', () => {
  it('is idempotent: moving the same job twice keeps one dead letter', async () => {
    const { id, jobId } = await deadLetter('dl1@contoso.com', 'not_found');
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
    await deadLetter('dl2@contoso.com', 'forbidden');
    await deadLetter('dl3@contoso.com', 'forbidden');
    const forbidden = await listDeadLetters(ctx, { reason: 'forbidden' });
    expect(forbidden.total).toBe(2);
    expect(forbidden.items.every((d) => d.reason === 'forbidden')).toBe(true);
    const page = await listDeadLetters(ctx, { limit: 1, offset: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.total).toBe(3);
  });

  it('redrive adds a new retire job, removes the dead letter and audits', async () => {
    const { id } = await deadLetter('dl4@contoso.com', 'not_found');
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
    const { id } = await deadLetter('dl5@contoso.com', 'not_found');
    await discardDeadLetter(ctx, id, 'ops-bob', 'user never existed');
    await expect(discardDeadLetter(ctx, id, 'ops-bob')).rejects.toBeInstanceOf(DeadLetterNotFoundError);
    const last = (await userHistory(ctx, 'dl5@contoso.com')).at(-1);
    expect(last).toMatchObject({ type: 'discarded', actor: 'ops-bob' });
  });
});

describe('queue control', () => {
  it('pause and resume are shared state with reasons and audit', async () => {
    await pauseQueue(ctx, 'ops-alice', 'maintenance');
    let status = await getQueueStatus(ctx);
    expect(status.paused).toBe(true);
    expect(status.pause).toMatchObject({ reason: 'maintenance', actor: 'ops-alice' });
    await resumeQueue(ctx, 'ops-alice');
    status = await getQueueStatus(ctx);
    expect(status.paused).toBe(false);
    expect(status.pause).toBeNull();
  });

  it('the circuit opens once, pauses the queue, and an operator resume closes it', async () => {
    expect(await openCircuit(ctx, { code: 'invalid_client', reason: 'client secret rejected' })).toBe(true);
    expect(await openCircuit(ctx, { code: 'invalid_client', reason: 'again' })).toBe(false);
    let status = await getQueueStatus(ctx);
    expect(status.paused).toBe(true);
    expect(status.circuit).toMatchObject({ open: true, code: 'invalid_client' });
    const r = await resumeQueue(ctx, 'ops-carol');
    expect(r.circuitWasOpen).toBe(true);
    status = await getQueueStatus(ctx);
    expect(status.circuit.open).toBe(false);
    expect(status.paused).toBe(false);
    const audit = await readAudit(ctx, { count: 3 });
    expect(audit.map((a) => a.type)).toContain('circuit-open');
    // 200/20 s × GRAPH_RATE_HEADROOM 0.97: the pace the pacer really aims at.
    expect(status.throttle.ratePerSecond).toBe(9.7);
  });
});
