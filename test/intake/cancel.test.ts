// Cancelling and moving pending leavers, against real BullMQ states (a real Worker holds a job active).
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelJob, cancelUser, JobNotCancellableError, JobNotFoundError } from '../../src/intake/cancel.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { rescheduleJob, rescheduleUser } from '../../src/intake/reschedule.js';
import { InvalidRequestError } from '../../src/intake/validate.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { RETIRE_QUEUE } from '../../src/queue/names.js';
import { userHistory } from '../../src/records/audit.js';
import { createRedis } from '../../src/redis/connection.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let ctx: QueueContext;
const meta = { requestedBy: 'hr', source: 'api' as const };
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString();

beforeAll(async () => {
  redis = await startRedis();
  ctx = createQueueContext(testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix }));
});
afterAll(async () => {
  await closeQueueContext(ctx);
  await redis.stop();
});

describe('cancel', () => {
  it('cancels waiting and delayed jobs, audited, and frees the user for a new request', async () => {
    const w = await enqueue(ctx, { user: 'w@contoso.com' }, meta);
    const d = await enqueue(ctx, { user: 'd@contoso.com', effectiveAt: tomorrow() }, meta);
    expect(await cancelJob(ctx, w.id, 'ops')).toEqual({
      id: w.id,
      user: 'w@contoso.com',
      state: 'cancelled',
      previousState: 'waiting',
    });
    expect(await cancelUser(ctx, 'D@Contoso.com', 'ops')).toMatchObject({
      id: d.id,
      previousState: 'delayed',
    });
    expect(await ctx.retire.getJob(d.id)).toBeUndefined();
    const history = await userHistory(ctx, 'd@contoso.com');
    expect(history.map((h) => h.type)).toEqual(['requested', 'cancelled']);
    expect(history[1]).toMatchObject({ actor: 'ops', jobId: d.id, details: { previousState: 'delayed' } });
    expect((await enqueue(ctx, { user: 'd@contoso.com' }, meta)).duplicate).toBe(false);
  });

  it('refuses unknown jobs, unknown users and malformed input', async () => {
    await expect(cancelJob(ctx, 'no-such-job', 'ops')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(cancelJob(ctx, '../../etc', 'ops')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(cancelUser(ctx, 'nobody@contoso.com', 'ops')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(cancelUser(ctx, 'not a user', 'ops')).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it('refuses active and completed jobs', async () => {
    // Own prefix: the worker below must find this job and no other.
    const own = createQueueContext(testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}x` }));
    const job = await enqueue(own, { user: 'active@contoso.com' }, meta);
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let started: () => void = () => {};
    const running = new Promise<void>((r) => {
      started = r;
    });
    const connection = createRedis(own.config.redis, { blocking: true });
    const worker = new Worker(
      RETIRE_QUEUE,
      async () => {
        started();
        await held;
        return { outcome: 'retired' };
      },
      { connection, prefix: own.prefix },
    );
    try {
      await running;
      const err = await cancelJob(own, job.id, 'ops').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JobNotCancellableError);
      expect((err as JobNotCancellableError).state).toBe('active');
      release();
      await new Promise<void>((r) => worker.once('completed', () => r()));
      const done = await cancelJob(own, job.id, 'ops').catch((e: unknown) => e);
      expect((done as JobNotCancellableError).state).toBe('completed');
    } finally {
      release();
      await worker.close();
      connection.disconnect();
      await closeQueueContext(own);
    }
  });
});

describe('reschedule', () => {
  it('moves a delayed job to a new moment (date + zone) and audits from → to', async () => {
    const d = await enqueue(ctx, { user: 'move@contoso.com', effectiveAt: tomorrow() }, meta);
    const r = await rescheduleUser(ctx, 'move@contoso.com', '2026-12-31', 'ops', { tz: 'Europe/Berlin' });
    expect(r).toMatchObject({ id: d.id, state: 'delayed', effectiveAt: '2026-12-30T23:00:00.000Z' });
    const job = await ctx.retire.getJob(d.id);
    expect(job?.data.effectiveAt).toBe('2026-12-30T23:00:00.000Z');
    expect(job?.delay).toBeGreaterThan(Date.parse('2026-12-30T23:00:00Z') - Date.now() - 5_000);
    const audit = (await userHistory(ctx, 'move@contoso.com')).at(-1);
    expect(audit).toMatchObject({
      type: 'rescheduled',
      actor: 'ops',
      details: { effectiveAt: '2026-12-30T23:00:00.000Z' },
    });
  });

  it('runs the job now when the new moment is past, and refuses jobs that are not delayed', async () => {
    const d = await enqueue(ctx, { user: 'now@contoso.com', effectiveAt: tomorrow() }, meta);
    const r = await rescheduleJob(ctx, d.id, new Date(Date.now() - 60_000), 'ops');
    expect(r.state).toBe('waiting');
    expect(await ctx.retire.getJobState(d.id)).toBe('waiting');
    await expect(rescheduleJob(ctx, d.id, tomorrow(), 'ops')).rejects.toBeInstanceOf(JobNotCancellableError);
    await expect(rescheduleJob(ctx, d.id, '2026-12-31', 'ops')).rejects.toThrow(/offset/);
    await expect(rescheduleJob(ctx, 'no-such-job', tomorrow(), 'ops')).rejects.toBeInstanceOf(
      JobNotFoundError,
    );
  });
});
