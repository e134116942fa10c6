// An import past FIRSTS_CAP distinct users but within GUARD_THRESHOLD is admitted with its users
// read from the staging set inside Redis (not shipped through the process): they must still be
// counted in the rolling window, so a second import that would pass the threshold is held.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importCsv } from '../../src/import/csv.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let ctx: QueueContext;

beforeAll(async () => {
  redis = await startRedis();
  ctx = createQueueContext(
    testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}sw`, GUARD_THRESHOLD: '12500' }),
  );
});
afterAll(async () => {
  await closeQueueContext(ctx);
  await redis.stop();
});

function csv(from: number, count: number): Readable {
  const lines = ['user'];
  for (let i = from; i < from + count; i++) lines.push(`staged-${i}@contoso.com`);
  // A repeat inside the file: staged once, counted once.
  lines.push(`staged-${from}@contoso.com`);
  return Readable.from([Buffer.from(`${lines.join('\n')}\n`)]);
}

it('counts a large staging in the window from Redis, and holds the import that would pass it', {
  timeout: 120_000,
}, async () => {
  const meta = { requestedBy: 'bulk-importer', source: 'import' as const };
  const first = await importCsv(ctx, csv(0, 11_000), { meta });
  expect(first).toMatchObject({ accepted: 11_000, duplicate: 1, invalid: 0 });
  expect(first.held).toBeUndefined();
  expect(await ctx.redis.zcard(keys.guardWindowTotal(ctx.prefix))).toBe(11_000);
  expect(
    await ctx.redis.zscore(keys.guardWindowTotal(ctx.prefix), 'staged-10999@contoso.com'),
  ).not.toBeNull();

  // 11,000 + 2,000 > 12,500: held by the window although the second import alone is small.
  const second = await importCsv(ctx, csv(11_000, 2_000), { meta });
  expect(second.held).toBeDefined();
  expect(second.holdReason).toMatch(/window|within/i);
  expect(await ctx.retire.count()).toBe(11_000);
});
