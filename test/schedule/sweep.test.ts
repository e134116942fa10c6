// Schedules and sweeps in-process against a real Redis and a real HTTP feed server on loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBatches } from '../../src/guard/batches.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { type ScheduleDef, validateSchedule } from '../../src/schedule/definition.js';
import { InvalidScheduleError, ScheduleNotFoundError, SweepSourceError } from '../../src/schedule/errors.js';
import { fetchFeed } from '../../src/schedule/http-feed.js';
import { addSchedule, listSchedules, removeSchedule } from '../../src/schedule/schedules.js';
import { runSweep } from '../../src/schedule/sweep.js';
import { zonedToInstant } from '../../src/values/timezone.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const TOKEN = 'feed-token-8f2c1e';
let redis: TestRedis;
let dir: string;
let server: Server;
let base: string;
const contexts: QueueContext[] = [];
let n = 0;
/** What the feed server answers, per path. */
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
const seenAuth: (string | undefined)[] = [];

function context(env: Record<string, string> = {}): QueueContext {
  const ctx = createQueueContext(
    testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}s${++n}`, ...env }),
  );
  contexts.push(ctx);
  return ctx;
}

function jsonRoute(path: string, body: unknown, opts: { auth?: boolean } = {}) {
  routes.set(path, (req, res) => {
    if (opts.auth && req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
}

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'offboard-sweep-'));
  server = createServer((req, res) => {
    seenAuth.push(req.headers.authorization);
    const route = routes.get(req.url ?? '');
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await Promise.all(contexts.map((c) => closeQueueContext(c)));
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('schedule definitions', () => {
  it('validates name, cron, zone and source, naming every problem', () => {
    expect(() =>
      validateSchedule({
        name: '',
        cron: 'nope',
        tz: 'Mars/Base',
        source: { type: 'http', url: 'http://hr.example.com' },
      }),
    ).toThrow(/name.*tz.*cron.*source\.url/);
    expect(() =>
      validateSchedule({ name: 'x', cron: '0 2 * * *', source: { type: 'csv', path: 'relative.csv' } }),
    ).toThrow(InvalidScheduleError);
    expect(() =>
      validateSchedule({
        name: 'x',
        cron: '0 2 * * *',
        source: { type: 'http', url: 'https://u:p@hr.example.com/' },
      }),
    ).toThrow(/credentials/);
    expect(
      validateSchedule({
        name: 'ok',
        cron: '* * * * * *',
        source: { type: 'http', url: `${base}/x`, tokenEnv: 'OFFBOARD_FEED_TOKEN_T' },
      }),
    ).toEqual({
      name: 'ok',
      cron: '* * * * * *',
      tz: 'UTC',
      source: { type: 'http', url: `${base}/x`, tokenEnv: 'OFFBOARD_FEED_TOKEN_T' },
    });
  });

  it('stores schedules as job schedulers: add (upsert), list with next run, remove', async () => {
    const ctx = context({ SCHEDULE_CSV_DIR: '/data' });
    const def: ScheduleDef = {
      name: 'nightly',
      cron: '0 2 * * *',
      tz: 'Europe/Berlin',
      source: { type: 'csv', path: '/data/a.csv' },
    };
    const added = await addSchedule(ctx, def, { actor: 'ops' });
    expect(added).toMatchObject({ ...def, addedBy: 'ops' });
    await addSchedule(ctx, { ...def, cron: '30 3 * * *' });
    const list = await listSchedules(ctx);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      name: 'nightly',
      cron: '30 3 * * *',
      tz: 'Europe/Berlin',
      source: def.source,
    });
    const next = new Date(list[0]?.next as string);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.toISOString().slice(11, 16)).toMatch(/^0[12]:30$/);
    await removeSchedule(ctx, 'nightly');
    expect(await listSchedules(ctx)).toEqual([]);
    await expect(removeSchedule(ctx, 'nightly')).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await expect(addSchedule(ctx, { ...def, cron: '99 * * * *' })).rejects.toBeInstanceOf(
      InvalidScheduleError,
    );
  });
});

describe('HTTP feed source', () => {
  it('sends the bearer token from the named variable and fans out into deduplicated retire jobs', async () => {
    const ctx = context();
    process.env.OFFBOARD_FEED_TOKEN_TEST = TOKEN;
    jsonRoute(
      '/leavers',
      {
        leavers: [
          { user: 'feed1@contoso.com', effectiveAt: '2026-12-24', reason: 'resigned', department: 'Sales' },
          { user: 'feed2@contoso.com' },
          { user: 'FEED2@contoso.com' },
          { user: 'not a user' },
        ],
      },
      { auth: true },
    );
    const def: ScheduleDef = {
      name: 'hr',
      cron: '*/5 * * * *',
      tz: 'Europe/Berlin',
      source: { type: 'http', url: `${base}/leavers`, tokenEnv: 'OFFBOARD_FEED_TOKEN_TEST' },
    };
    const first = await runSweep(ctx, def, { now: Date.parse('2026-11-30T01:00:00Z') });
    expect(first).toEqual({
      schedule: 'hr',
      tick: '2026-11-30T01:00:00.000Z',
      source: 'http',
      found: 4,
      new: 2,
      duplicate: 1,
      invalid: 1,
      held: null,
      dryRun: false,
    });
    expect(seenAuth.at(-1)).toBe(`Bearer ${TOKEN}`);
    const jobs = await ctx.retire.getJobs(['waiting', 'delayed']);
    const feed1 = jobs.find((j) => j.data.user === 'feed1@contoso.com');
    expect(feed1?.data).toMatchObject({
      requestedBy: 'schedule:hr',
      source: 'schedule',
      reason: 'resigned',
      effectiveAt: zonedToInstant('2026-12-24', 'Europe/Berlin'),
    });
    const again = await runSweep(ctx, def);
    expect(again).toMatchObject({ found: 4, new: 0, duplicate: 3, invalid: 1 });
    expect(await ctx.retire.count()).toBe(2);
    const sweeps = (await readAudit(ctx)).filter((e) => e.type === 'sweep');
    expect(sweeps).toHaveLength(2);
    expect(sweeps[1]).toMatchObject({
      actor: 'schedule:hr',
      details: { found: 4, new: 2, duplicate: 1, invalid: 1, held: null },
    });
    expect(JSON.stringify(await readAudit(ctx))).not.toContain(TOKEN);
  });

  it('records a failed sweep (wrong token) in the audit without the token, and enqueues nothing', async () => {
    const ctx = context();
    jsonRoute('/secure', [{ user: 'x@contoso.com' }], { auth: true });
    process.env.OFFBOARD_FEED_TOKEN_WRONG = 'wrong-token-value';
    const def: ScheduleDef = {
      name: 'secure',
      cron: '0 * * * *',
      tz: 'UTC',
      source: { type: 'http', url: `${base}/secure`, tokenEnv: 'OFFBOARD_FEED_TOKEN_WRONG' },
    };
    const err = await runSweep(ctx, def).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SweepSourceError);
    expect((err as Error).message).toMatch(/HTTP 401/);
    expect((err as Error).message).not.toContain('wrong-token-value');
    const audit = await readAudit(ctx);
    expect(audit[0]).toMatchObject({
      type: 'sweep',
      details: { schedule: 'secure', error: expect.stringMatching(/401/) },
    });
    expect(JSON.stringify(audit)).not.toContain('wrong-token-value');
    expect(await ctx.retire.count()).toBe(0);
    const unset = { ...def, source: { ...def.source, tokenEnv: 'OFFBOARD_FEED_TOKEN_UNSET' } } as ScheduleDef;
    await expect(runSweep(ctx, unset)).rejects.toThrow(/OFFBOARD_FEED_TOKEN_UNSET.*not set/);
  });

  it('refuses oversized, non-JSON, wrongly shaped, redirecting and hanging feeds', async () => {
    jsonRoute(
      '/big',
      Array.from({ length: 2000 }, (_, i) => ({ user: `big${i}@contoso.com` })),
    );
    routes.set('/html', (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
    );
    jsonRoute('/object', { people: [] });
    routes.set('/redirect', (_req, res) => res.writeHead(302, { location: `${base}/object` }).end());
    routes.set('/hang', () => {});
    await expect(fetchFeed({ url: `${base}/big` }, { maxBytes: 10_000 })).rejects.toThrow(
      /larger than 10000 bytes/,
    );
    await expect(fetchFeed({ url: `${base}/html` })).rejects.toThrow(/did not return JSON/);
    await expect(fetchFeed({ url: `${base}/object` })).rejects.toThrow(/"leavers" array/);
    await expect(fetchFeed({ url: `${base}/redirect` })).rejects.toBeInstanceOf(SweepSourceError);
    const started = Date.now();
    await expect(fetchFeed({ url: `${base}/hang` }, { timeoutMs: 300 })).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(fetchFeed({ url: 'http://hr.example.com/leavers' })).rejects.toThrow(/https/);
    expect(await fetchFeed({ url: `${base}/big` })).toHaveLength(2000);
  });

  it('holds a sweep larger than GUARD_THRESHOLD and records the batch in the sweep summary', async () => {
    const ctx = context({ GUARD_THRESHOLD: '2' });
    jsonRoute('/many', [{ user: 'm1@contoso.com' }, { user: 'm2@contoso.com' }, { user: 'm3@contoso.com' }]);
    const def: ScheduleDef = {
      name: 'many',
      cron: '0 * * * *',
      tz: 'UTC',
      source: { type: 'http', url: `${base}/many` },
      dryRun: true,
    };
    const s = await runSweep(ctx, def);
    expect(s.held).toBeTruthy();
    expect(s).toMatchObject({ found: 3, new: 0, dryRun: true });
    expect(await ctx.retire.count()).toBe(0);
    const [batch] = await listBatches(ctx);
    expect(batch).toMatchObject({
      id: s.held,
      state: 'held',
      source: 'schedule',
      submittedBy: 'schedule:many',
      dryRun: true,
    });
  });
});

describe('CSV source', () => {
  it('reads the file with the schedule zone and reports a missing file as a source error', async () => {
    const ctx = context({ SCHEDULE_CSV_DIR: dir });
    const path = join(dir, 'leavers.csv');
    writeFileSync(path, 'user,effectiveAt\ncsv1@contoso.com,2026-12-24T18:00\nbad,\n');
    const def: ScheduleDef = {
      name: 'files',
      cron: '0 2 * * *',
      tz: 'America/New_York',
      source: { type: 'csv', path },
    };
    expect(await runSweep(ctx, def)).toMatchObject({
      source: 'csv',
      found: 2,
      new: 1,
      invalid: 1,
      held: null,
    });
    const [job] = await ctx.retire.getJobs(['delayed']);
    expect(job?.data.effectiveAt).toBe('2026-12-24T23:00:00.000Z');
    const missing = { ...def, source: { type: 'csv' as const, path: join(dir, 'missing.csv') } };
    await expect(runSweep(ctx, missing)).rejects.toBeInstanceOf(SweepSourceError);
  });
});
