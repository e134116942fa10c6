import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitBulk } from '../../src/front-door/front-door.js';
import {
  approveBatch,
  BatchNotFoundError,
  BatchStateError,
  expireBatches,
  getBatch,
  listBatches,
  rejectBatch,
  TwoPersonRuleError,
} from '../../src/guard/batches.js';
import { tryApprove } from '../../src/guard/store.js';
import { enqueueMany } from '../../src/intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
const contexts: QueueContext[] = [];
let n = 0;

/** A fresh prefix per test: counts in the retire queue belong to that test alone. */
function context(env: Record<string, string> = {}): QueueContext {
  const ctx = createQueueContext(
    testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}g${++n}`, ...env }),
  );
  contexts.push(ctx);
  return ctx;
}

const users = (tag: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ user: `${tag}${i}@contoso.com` }));

async function jobCount(ctx: QueueContext): Promise<number> {
  const c = await ctx.retire.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

async function auditTypes(ctx: QueueContext): Promise<string[]> {
  return (await readAudit(ctx, { reverse: false, count: 10_000 })).map((e) => e.type);
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(contexts.map((c) => closeQueueContext(c)));
  await redis.stop();
});

describe('mass-change guard threshold (default 50)', () => {
  it('enqueues 50 valid users at once', async () => {
    const ctx = context();
    expect(ctx.config.guard.threshold).toBe(50);
    const out = await submitBulk(ctx, users('a', 50), { requestedBy: 'hr', source: 'batch' });
    expect(out.held).toBe(false);
    if (out.held) return;
    expect(out.results.filter((r) => r.status === 'accepted')).toHaveLength(50);
    expect(await jobCount(ctx)).toBe(50);
    expect(await listBatches(ctx)).toEqual([]);
  });

  it('holds 51 users as one batch and enqueues nothing', async () => {
    const ctx = context();
    const out = await submitBulk(ctx, users('b', 51), { requestedBy: 'hr', source: 'batch' });
    expect(out.held).toBe(true);
    if (!out.held) return;
    expect(out.batch).toMatchObject({
      state: 'held',
      count: 51,
      submittedBy: 'hr',
      source: 'batch',
      invalid: 0,
    });
    expect(Date.parse(out.batch.expiresAt) - Date.parse(out.batch.createdAt)).toBe(72 * 3_600_000);
    expect(await jobCount(ctx)).toBe(0);
    const held = (await readAudit(ctx)).find((e) => e.type === 'held');
    expect(held).toMatchObject({ actor: 'hr', details: { batchId: out.batch.id, count: 51 } });
    expect((await listBatches(ctx, { state: 'held' })).map((b) => b.id)).toEqual([out.batch.id]);
  });

  it('counts valid distinct users: 51 items with a repeat and an invalid one are not held', async () => {
    const ctx = context();
    const items = [...users('c', 49), { user: 'C0@contoso.com' }, { user: 'not a user' }];
    const out = await submitBulk(ctx, items, { requestedBy: 'hr', source: 'batch' });
    expect(out.held).toBe(false);
    if (out.held) return;
    expect(out.results.map((r) => r.status).slice(-2)).toEqual(['duplicate', 'invalid']);
    expect(await jobCount(ctx)).toBe(49);
  });

  it('reports invalid items of a held submission and keeps them out of the batch', async () => {
    const ctx = context({ GUARD_THRESHOLD: '2' });
    const out = await submitBulk(ctx, [...users('d', 3), { user: 'bad' }, { user: 'D1@contoso.com' }], {
      requestedBy: 'hr',
      source: 'batch',
      dryRun: true,
    });
    expect(out.held).toBe(true);
    if (!out.held) return;
    expect(out.invalid).toEqual([expect.objectContaining({ index: 3, status: 'invalid', user: 'bad' })]);
    expect(out.batch).toMatchObject({ count: 3, invalid: 1, duplicate: 1, dryRun: true });
  });
});

describe('approving and rejecting', () => {
  it('refuses approval by the submitter under the two-person rule, then another operator enqueues', async () => {
    const ctx = context({ GUARD_TWO_PERSON: 'true' });
    const out = await submitBulk(ctx, users('e', 51), {
      requestedBy: 'alice',
      source: 'batch',
      dryRun: true,
    });
    if (!out.held) throw new Error('expected a held batch');
    await expect(approveBatch(ctx, out.batch.id, 'alice', { version: 1 })).rejects.toBeInstanceOf(
      TwoPersonRuleError,
    );
    expect((await getBatch(ctx, out.batch.id)).state).toBe('held');
    expect(await jobCount(ctx)).toBe(0);

    const { batch, results } = await approveBatch(ctx, out.batch.id, 'bob', { version: 1 });
    expect(batch).toMatchObject({ state: 'approved', decidedBy: 'bob', enqueued: 51 });
    expect(batch.result).toEqual({ accepted: 51, duplicate: 0, invalid: 0 });
    expect(results).toHaveLength(51);
    expect(await jobCount(ctx)).toBe(51);
    const job = await ctx.retire.getJob((results[0] as { id: string }).id);
    expect(job?.data).toMatchObject({
      batchId: out.batch.id,
      requestedBy: 'alice',
      source: 'batch',
      dryRun: true,
    });
    const approved = (await readAudit(ctx)).filter((e) => e.type === 'approved');
    expect(approved).toEqual([
      expect.objectContaining({ actor: 'bob', details: expect.objectContaining({ batchId: out.batch.id }) }),
    ]);
    // Once decided, it cannot be decided again.
    await expect(approveBatch(ctx, out.batch.id, 'carol', { version: 1 })).rejects.toBeInstanceOf(
      BatchStateError,
    );
    await expect(rejectBatch(ctx, out.batch.id, 'carol', { version: 1 })).rejects.toBeInstanceOf(
      BatchStateError,
    );
  });

  it('lets the submitter approve without the two-person rule', async () => {
    const ctx = context();
    const out = await submitBulk(ctx, users('f', 51), { requestedBy: 'alice', source: 'batch' });
    if (!out.held) throw new Error('expected a held batch');
    const { batch } = await approveBatch(ctx, out.batch.id, 'alice', { results: false, version: 1 });
    expect(batch.state).toBe('approved');
    expect(await jobCount(ctx)).toBe(51);
  });

  it('rejects: nothing is enqueued, the items are gone, the decision is audited', async () => {
    const ctx = context();
    const out = await submitBulk(ctx, users('g', 60), { requestedBy: 'alice', source: 'import' });
    if (!out.held) throw new Error('expected a held batch');
    const batch = await rejectBatch(ctx, out.batch.id, 'bob', { reason: 'wrong file', version: 1 });
    expect(batch).toMatchObject({ state: 'rejected', decidedBy: 'bob', reason: 'wrong file' });
    expect(await jobCount(ctx)).toBe(0);
    expect(await ctx.redis.exists(keys.batchItems(ctx.prefix, out.batch.id))).toBe(0);
    await expect(approveBatch(ctx, out.batch.id, 'carol', { version: 1 })).rejects.toBeInstanceOf(
      BatchStateError,
    );
    expect(await jobCount(ctx)).toBe(0);
    expect(await auditTypes(ctx)).toEqual(['held', 'rejected']);
  });

  it('throws BatchNotFoundError for an unknown batch', async () => {
    const ctx = context();
    await expect(approveBatch(ctx, 'no-such-batch', 'bob', { version: 1 })).rejects.toBeInstanceOf(
      BatchNotFoundError,
    );
    await expect(rejectBatch(ctx, 'no-such-batch', 'bob', { version: 1 })).rejects.toBeInstanceOf(
      BatchNotFoundError,
    );
    await expect(getBatch(ctx, 'no-such-batch')).rejects.toBeInstanceOf(BatchNotFoundError);
  });

  it('lets exactly one of two concurrent approvals win', async () => {
    const ctx = context();
    const out = await submitBulk(ctx, users('h', 300), { requestedBy: 'alice', source: 'batch' });
    if (!out.held) throw new Error('expected a held batch');
    const settled = await Promise.allSettled([
      approveBatch(ctx, out.batch.id, 'bob', { version: 1 }),
      approveBatch(ctx, out.batch.id, 'carol', { version: 1 }),
    ]);
    const won = settled.filter((s) => s.status === 'fulfilled');
    const lost = settled.filter((s) => s.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(BatchStateError);
    expect(await jobCount(ctx)).toBe(300);
    expect((await auditTypes(ctx)).filter((t) => t === 'approved')).toHaveLength(1);
  });

  it('resumes an approval that crashed after writing part of the batch, without doubles', async () => {
    const ctx = context();
    const out = await submitBulk(ctx, users('i', 120), { requestedBy: 'alice', source: 'batch' });
    if (!out.held) throw new Error('expected a held batch');
    // The crashed process: state turned `approving`, 40 jobs written, progress never recorded.
    expect((await tryApprove(ctx, out.batch.id, 'bob', Date.now(), false, 1)).kind).toBe('ok');
    await enqueueMany(ctx, users('i', 40), { requestedBy: 'alice', source: 'batch', batchId: out.batch.id });
    // While its lease runs, nobody else may take over.
    await expect(approveBatch(ctx, out.batch.id, 'carol', { version: 1 })).rejects.toBeInstanceOf(
      BatchStateError,
    );
    expect((await getBatch(ctx, out.batch.id)).state).toBe('approving');
    await ctx.redis.hset(keys.batch(ctx.prefix, out.batch.id), 'leaseUntil', '0');

    const { batch } = await approveBatch(ctx, out.batch.id, 'carol', { version: 1 });
    expect(batch.state).toBe('approved');
    expect(batch.result).toEqual({ accepted: 80, duplicate: 40, invalid: 0 });
    expect(await jobCount(ctx)).toBe(120);
    expect(batch.decidedBy).toBe('bob');
  });
});

describe('expiry', () => {
  it('expires a held batch after GUARD_TTL: audited once, nothing enqueued, no approval afterwards', async () => {
    const ctx = context({ GUARD_TTL: '300ms' });
    const out = await submitBulk(ctx, users('j', 51), { requestedBy: 'alice', source: 'schedule' });
    if (!out.held) throw new Error('expected a held batch');
    await new Promise((r) => setTimeout(r, 400));
    const [expired] = await Promise.all([expireBatches(ctx), expireBatches(ctx)]);
    expect((await listBatches(ctx)).map((b) => b.state)).toEqual(['expired']);
    expect(expired.length).toBeLessThanOrEqual(1);
    await expect(approveBatch(ctx, out.batch.id, 'bob', { version: 1 })).rejects.toThrow(/expired/);
    expect(await jobCount(ctx)).toBe(0);
    expect(await ctx.redis.exists(keys.batchItems(ctx.prefix, out.batch.id))).toBe(0);
    expect((await auditTypes(ctx)).filter((t) => t === 'expired')).toHaveLength(1);
    expect((await getBatch(ctx, out.batch.id)).decidedBy).toBe('guard');
  });

  it('expires on approval when nobody listed the batch in time', async () => {
    const ctx = context({ GUARD_TTL: '200ms' });
    const out = await submitBulk(ctx, users('k', 51), { requestedBy: 'alice', source: 'batch' });
    if (!out.held) throw new Error('expected a held batch');
    await new Promise((r) => setTimeout(r, 300));
    const err = await approveBatch(ctx, out.batch.id, 'bob', { version: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchStateError);
    expect((err as BatchStateError).state).toBe('expired');
    expect(await jobCount(ctx)).toBe(0);
  });
});
