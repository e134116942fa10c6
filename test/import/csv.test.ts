import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveBatch, listBatchItems } from '../../src/guard/batches.js';
import { type ImportRowEvent, importCsv } from '../../src/import/csv.js';
import { ImportFormatError } from '../../src/import/row.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { InvalidTimeZoneError } from '../../src/values/timezone.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
const contexts: QueueContext[] = [];
let n = 0;

function context(env: Record<string, string> = {}): QueueContext {
  const ctx = createQueueContext(
    testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}i${++n}`, ...env }),
  );
  contexts.push(ctx);
  return ctx;
}

const csv = (text: string) => Readable.from([Buffer.from(text)]);
const meta = { requestedBy: 'importer', source: 'import' as const };

async function pendingJobs(ctx: QueueContext) {
  return ctx.retire.getJobs(['waiting', 'delayed'], 0, -1, true);
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(contexts.map((c) => closeQueueContext(c)));
  await redis.stop();
});

const MIXED = [
  'User,effectiveAt,Reason', // 1
  'alice@contoso.com,2026-12-01T17:00:00+01:00,resigned', // 2
  '', // 3
  'not a user,,', // 4
  '"bob@contoso.com","2026-12-01","two', // 5: a reason with a newline is refused (it could forge
  'lines"', // 6    a row in what the CLI prints)
  'ALICE@contoso.com', // 7 (repeat of line 2)
  'carol@contoso.com,2026-02-30', // 8
  'dave@contoso.com,,,extra', // 9
  'erin@contoso.com,,"say ""hi"""', // 10
  '"frank@contoso.com,unterminated', // 11
].join('\n');

describe('importCsv', () => {
  it('enqueues valid rows, reports every bad row with its line, dedupes inside the file', async () => {
    const ctx = context();
    const rows: ImportRowEvent[] = [];
    const errors: { line: number; error: string }[] = [];
    const r = await importCsv(ctx, csv(MIXED), {
      meta,
      tz: 'Europe/Berlin',
      onRow: (row) => rows.push(row),
      onRowError: (e) => errors.push(e),
    });
    expect(r).toMatchObject({ lines: 8, accepted: 2, duplicate: 1, invalid: 5, plan: false });
    expect(r.held).toBeUndefined();
    expect(r.errors.map((e) => e.line)).toEqual([4, 5, 8, 9, 11]);
    expect(r.errors.find((e) => e.line === 5)?.error).toMatch(/reason.*no newlines/);
    expect(errors).toEqual(r.errors);
    expect(r.errors.find((e) => e.line === 8)?.error).toMatch(/not a real date/);
    expect(r.errors.find((e) => e.line === 9)?.error).toMatch(/fields/);
    const jobs = await pendingJobs(ctx);
    expect(jobs.map((j) => j.data.user).sort()).toEqual(['alice@contoso.com', 'erin@contoso.com']);
    const alice = jobs.find((j) => j.data.user === 'alice@contoso.com');
    expect(alice?.data).toMatchObject({ reason: 'resigned', requestedBy: 'importer', source: 'import' });
    expect(jobs.find((j) => j.data.user === 'erin@contoso.com')?.data.reason).toBe('say "hi"');
    expect(rows.find((x) => x.line === 7)).toMatchObject({ status: 'duplicate', user: 'alice@contoso.com' });
    expect(rows.find((x) => x.line === 5)).toMatchObject({ status: 'invalid', user: 'bob@contoso.com' });
    // Staging keys are gone once the rows are in the queue.
    expect(await ctx.redis.keys(`${ctx.prefix}:offboard:batch:*`)).toEqual([]);
  });

  it('refuses a date without an offset when no zone is given', async () => {
    const ctx = context();
    const r = await importCsv(ctx, csv('user,effectiveAt\nzoe@contoso.com,2026-12-01\n'), { meta });
    expect(r.invalid).toBe(1);
    expect(r.errors[0]).toMatchObject({ line: 2, error: expect.stringMatching(/no UTC offset.*--tz/) });
    expect(await pendingJobs(ctx)).toHaveLength(0);
  });

  it('plan: a row-by-row preview in file order, nothing enqueued', async () => {
    const ctx = context();
    await importCsv(ctx, csv('user\nalice@contoso.com\n'), { meta });
    const before = (await pendingJobs(ctx)).length;
    const rows: ImportRowEvent[] = [];
    const r = await importCsv(ctx, csv(MIXED), { meta, plan: true, tz: 'UTC', onRow: (x) => rows.push(x) });
    expect(r).toMatchObject({
      plan: true,
      lines: 8,
      accepted: 1,
      duplicate: 2,
      invalid: 5,
      wouldHold: false,
    });
    expect(rows.map((x) => [x.line, x.status])).toEqual([
      [2, 'duplicate'],
      [4, 'invalid'],
      [5, 'invalid'],
      [7, 'duplicate'],
      [8, 'invalid'],
      [9, 'invalid'],
      [10, 'new'],
      [11, 'invalid'],
    ]);
    expect(rows[0]?.jobId).toBeTruthy();
    expect((await pendingJobs(ctx)).length).toBe(before);
    expect(await ctx.redis.keys(`${ctx.prefix}:offboard:batch:*`)).toEqual([]);
  });

  it('holds an import larger than GUARD_THRESHOLD as ONE batch, staged in Redis with line numbers', async () => {
    const ctx = context({ GUARD_THRESHOLD: '5' });
    const lines = [
      'user,reason',
      ...Array.from({ length: 30 }, (_, i) => `u${i}@contoso.com,batch`),
      'bad,row',
    ];
    const r = await importCsv(ctx, csv(lines.join('\r\n')), {
      meta: { ...meta, dryRun: true },
      chunkSize: 7,
    });
    expect(r.held).toMatchObject({
      state: 'held',
      count: 30,
      invalid: 1,
      source: 'import',
      submittedBy: 'importer',
    });
    expect(r.accepted).toBe(0);
    expect(await pendingJobs(ctx)).toHaveLength(0);
    const id = r.held?.id as string;
    const items = await listBatchItems(ctx, id, { limit: 100 });
    expect(items.map((i) => i.n)).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    expect(await ctx.redis.exists(keys.batchUsers(ctx.prefix, id))).toBe(0);
    expect((await readAudit(ctx)).filter((e) => e.type === 'held')).toHaveLength(1);

    const { batch, results } = await approveBatch(ctx, id, 'approver', { version: 1 });
    expect(batch.result?.accepted).toBe(30);
    expect(results.map((x) => x.index)).toEqual(items.map((i) => i.n));
    const jobs = await pendingJobs(ctx);
    expect(jobs).toHaveLength(30);
    expect(jobs.every((j) => j.data.dryRun && j.data.batchId === id && j.data.reason === 'batch')).toBe(true);
  });

  it('refuses a file without a usable header and imports nothing', async () => {
    const ctx = context();
    await expect(importCsv(ctx, csv(''), { meta })).rejects.toBeInstanceOf(ImportFormatError);
    await expect(importCsv(ctx, csv('reason\nx@contoso.com\n'), { meta })).rejects.toThrow(
      /no "user" column/,
    );
    await expect(importCsv(ctx, csv('user,efective_at\nx@contoso.com,\n'), { meta })).rejects.toThrow(
      /unknown column "efective_at"/,
    );
    await expect(importCsv(ctx, csv('user,user\nx@contoso.com,y@contoso.com\n'), { meta })).rejects.toThrow(
      /twice/,
    );
    await expect(
      importCsv(ctx, csv('user\nx@contoso.com\n'), { meta, tz: 'Mars/Olympus' }),
    ).rejects.toBeInstanceOf(InvalidTimeZoneError);
    expect(await pendingJobs(ctx)).toHaveLength(0);
  });

  it('accepts a UTF-8 BOM and CRLF line ends', async () => {
    const ctx = context();
    const r = await importCsv(ctx, csv('\uFEFFuser,correlationId\r\nbom@contoso.com,ticket-42\r\n'), {
      meta,
    });
    expect(r).toMatchObject({ accepted: 1, invalid: 0 });
    expect((await pendingJobs(ctx))[0]?.data.correlationId).toBe('ticket-42');
  });
});
