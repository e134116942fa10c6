import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, enqueueMany } from '../../src/intake/enqueue.js';
import { InvalidRequestError } from '../../src/intake/validate.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { userHistory } from '../../src/records/audit.js';
import { normaliseUser } from '../../src/values/user.js';
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

describe('user validation', () => {
  it('accepts GUIDs and UPNs and normalises them', () => {
    expect(normaliseUser(' Alice@Contoso.COM ')).toBe('alice@contoso.com');
    expect(normaliseUser('3F2504E0-4F89-11D3-9A0C-0305E82C3301')).toBe(
      '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
    );
    expect(normaliseUser('$admin@contoso.com')).toBe('$admin@contoso.com');
  });
  it.each([
    '',
    'alice',
    '../etc/passwd',
    'a/b@contoso.com',
    '%2e%2e@contoso.com',
    'alice@contoso',
    'al ice@contoso.com',
    'alice\u0000@contoso.com',
    'alice\u202e@contoso.com',
    `${'a'.repeat(65)}@contoso.com`,
    'alice@@contoso.com',
  ])('rejects %j', (bad) => {
    expect(() => normaliseUser(bad)).toThrow();
  });
});

describe('enqueue', () => {
  it('stores a job durably and returns the pending one for a second request', async () => {
    const first = await enqueue(
      ctx,
      { user: 'Bob@Contoso.com', reason: 'left' },
      { requestedBy: 'hr', source: 'api' },
    );
    expect(first).toMatchObject({ user: 'bob@contoso.com', state: 'waiting', duplicate: false });
    const job = await ctx.retire.getJob(first.id);
    expect(job?.data).toMatchObject({
      user: 'bob@contoso.com',
      requestedBy: 'hr',
      source: 'api',
      dryRun: false,
    });
    expect(job?.data.correlationId).toMatch(/[0-9a-f-]{36}/);
    const second = await enqueue(ctx, { user: 'bob@contoso.com' }, { requestedBy: 'cli', source: 'cli' });
    expect(second).toMatchObject({ id: first.id, duplicate: true, state: 'waiting' });
    expect(await ctx.retire.count()).toBe(1);
    const history = await userHistory(ctx, 'bob@contoso.com');
    expect(history.map((h) => h.type)).toEqual(['requested', 'duplicate']);
  });

  it('turns effectiveAt into a delayed job', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString().replace('Z', '+00:00');
    const r = await enqueue(
      ctx,
      { user: 'carol@contoso.com', effectiveAt: at },
      { requestedBy: 'hr', source: 'api' },
    );
    expect(r.state).toBe('delayed');
    expect(await ctx.retire.getJobState(r.id)).toBe('delayed');
  });

  it('refuses bad input and writes nothing', async () => {
    const before = await ctx.retire.count();
    await expect(
      enqueue(ctx, { user: 'not a user' }, { requestedBy: 'hr', source: 'api' }),
    ).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(
      enqueue(
        ctx,
        { user: 'x@contoso.com', effectiveAt: '2026-12-01T10:00' },
        { requestedBy: 'hr', source: 'api' },
      ),
    ).rejects.toThrow(/offset/);
    expect(await ctx.retire.count()).toBe(before);
  });
});

describe('enqueueMany', () => {
  it('accepts valid items, marks duplicates within and across calls, reports invalid ones', async () => {
    const items = [
      { user: 'd1@contoso.com' },
      { user: 'bad user' },
      { user: 'D1@contoso.com' },
      { user: 'd2@contoso.com', dryRun: true },
      { user: 'bob@contoso.com' },
      { user: 'd3@contoso.com', extra: 1 },
    ];
    const r = await enqueueMany(
      ctx,
      items,
      { requestedBy: 'hr', source: 'batch', batchId: 'b1' },
      { chunkSize: 2 },
    );
    expect(r.map((x) => x.status)).toEqual([
      'accepted',
      'invalid',
      'duplicate',
      'accepted',
      'duplicate',
      'invalid',
    ]);
    const first = r[0] as { id: string };
    expect((r[2] as { id: string }).id).toBe(first.id);
    const job = await ctx.retire.getJob((r[3] as { id: string }).id);
    expect(job?.data).toMatchObject({ dryRun: true, batchId: 'b1', source: 'batch' });
  });
});
