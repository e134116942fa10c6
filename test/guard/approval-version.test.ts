// Issue 19 item 1: an approval names what was reviewed. An operator reads a held batch (count 1),
// the producer then sends more single requests that join it; approving or rejecting the version
// that was read is refused (409 batch_changed with the current count), a decision without a version
// is refused, and nothing is enqueued until someone decides the version they were shown. Through the
// real API on loopback, the real CLI and the console, on a real Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { getBatch, listBatches } from '../../src/guard/batches.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { apiConfig, bearer, KEYS, liveApi, type TestApi, testApp } from '../api/helpers.js';
import { runCli } from '../cli/run-cli.js';
import { ConsoleClient } from '../console/helpers.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let api: RunningApi;
let ctx: QueueContext;
const PREFIX_ENV = { GUARD_THRESHOLD: '1', GUARD_WINDOW: '1h' };
let prefix: string;

beforeAll(async () => {
  redis = await startRedis();
  prefix = `${redis.prefix}av`;
  api = await liveApi(redis, { QUEUE_PREFIX: prefix, ...PREFIX_ENV });
  ctx = createQueueContext(apiConfig(redis, { QUEUE_PREFIX: prefix, ...PREFIX_ENV }));
});
afterAll(async () => {
  await api?.close();
  if (ctx) await closeQueueContext(ctx);
  await redis?.stop();
});

async function call(
  method: string,
  path: string,
  key: string,
  body?: unknown,
  extra: Record<string, string> = {},
) {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...extra,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: test JSON
  return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : null) as any };
}

const single = (user: string) => call('POST', '/v1/offboardings', KEYS.producer, { user });

async function jobsFor(users: string[]): Promise<number> {
  let n = 0;
  for (const u of users) if (await ctx.retire.getDeduplicationJobId(u)) n++;
  return n;
}

describe('the API: If-Match names the reviewed version', () => {
  it('refuses an approval of version 1 after 25 users joined (409 batch_changed, count 26); nothing enqueued until the current version is approved', async () => {
    // One user fits the window; the next is held and opens the producer's window batch.
    expect((await single('av-first@contoso.com')).status).toBe(202);
    const held = await single('av-0@contoso.com');
    expect(held.json).toMatchObject({ state: 'held' });
    const id = held.json.batchId as string;

    const seen = await call('GET', `/v1/batches/${id}`, KEYS.viewer);
    expect(seen.status).toBe(200);
    expect(seen.json).toMatchObject({ count: 1, version: 1 });
    const etag = seen.headers.get('etag');
    expect(etag).toBe('"1"');

    // The producer keeps sending: 25 more users join the same batch after the operator looked.
    const late = Array.from({ length: 25 }, (_, i) => `av-${i + 1}@contoso.com`);
    for (const u of late) expect((await single(u)).json).toMatchObject({ state: 'held', batchId: id });

    const approve = (extra: Record<string, string>) =>
      call('POST', `/v1/batches/${id}/approve`, KEYS.operator, undefined, extra);
    const stale = await approve({ 'if-match': etag as string });
    expect(stale.status).toBe(409);
    expect(stale.json.error).toMatchObject({
      code: 'batch_changed',
      details: { expected: 1, version: 26, count: 26 },
    });
    // No version, a wildcard, a list or garbage: refused, still nothing enqueued.
    const none = await approve({});
    expect(none.status).toBe(428);
    expect(none.json.error).toMatchObject({ code: 'precondition_required', details: { count: 26 } });
    for (const bad of ['*', '"1", "26"', 'W/"26"', 'abc']) {
      expect((await approve({ 'if-match': bad })).status, bad).toBe(400);
    }
    const rejectStale = await call(
      'POST',
      `/v1/batches/${id}/reject`,
      KEYS.operator,
      { reason: 'x' },
      {
        'if-match': '"1"',
      },
    );
    expect(rejectStale.status).toBe(409);
    expect(rejectStale.json.error.code).toBe('batch_changed');
    expect((await getBatch(ctx, id)).state).toBe('held');
    expect(await jobsFor(['av-0@contoso.com', ...late])).toBe(0);

    // Review again: the ETag now names 26 users, and approving exactly that releases them.
    const again = await call('GET', `/v1/batches/${id}`, KEYS.viewer);
    expect(again.headers.get('etag')).toBe('"26"');
    const ok = await approve({ 'if-match': again.headers.get('etag') as string });
    expect(ok.status).toBe(200);
    expect(ok.json.batch).toMatchObject({ state: 'approved', count: 26, result: { accepted: 26 } });
    expect(await jobsFor(['av-0@contoso.com', ...late])).toBe(26);
    const audit = (await readAudit(ctx, { count: 200 })).find((e) => e.type === 'approved');
    expect(audit?.details).toMatchObject({ batchId: id, version: 26, count: 26 });
    // The list shows the version too.
    const list = await call('GET', '/v1/batches', KEYS.viewer);
    expect(list.json.items.find((b: { id: string }) => b.id === id)).toMatchObject({ version: 26 });
  });

  it('the same for reject: a stale version is refused, the reviewed one rejects', async () => {
    const held = await single('avr-0@contoso.com');
    const id = held.json.batchId as string;
    const v = (await call('GET', `/v1/batches/${id}`, KEYS.viewer)).headers.get('etag') as string;
    await single('avr-1@contoso.com');
    const stale = await call('POST', `/v1/batches/${id}/reject`, KEYS.operator, {}, { 'if-match': v });
    expect(stale.status).toBe(409);
    expect(stale.json.error.details).toMatchObject({ count: 2 });
    const ok = await call('POST', `/v1/batches/${id}/reject`, KEYS.operator, {}, { 'if-match': '"2"' });
    expect(ok.status).toBe(200);
    expect(ok.json.batch.state).toBe('rejected');
    expect(await jobsFor(['avr-0@contoso.com', 'avr-1@contoso.com'])).toBe(0);
  });
});

describe('the CLI approves the version it printed', () => {
  it('show prints the version; a stale --batch-version exits 1 with the new count; none is a usage error', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix, ...PREFIX_ENV };
    await single('avc-pre@contoso.com');
    const held = await single('avc-0@contoso.com');
    expect(held.json).toMatchObject({ state: 'held' });
    const id = held.json.batchId as string;
    const v = (await getBatch(ctx, id)).version;
    const show = await runCli(['batches', 'show', id], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`${id}  v${v} `);
    expect(show.stdout).toContain(`offboard batches approve|reject ${id} --batch-version ${v}`);
    await single('avc-1@contoso.com');
    const now = await getBatch(ctx, id);
    expect(now.version).toBe(v + 1);

    // `--version` is the CLI's own flag: typed by habit it prints the CLI version and approves nothing.
    const [stale, missing, habit] = await Promise.all([
      runCli(['batches', 'approve', id, '--batch-version', String(v), '--as', 'bob'], env),
      runCli(['batches', 'approve', id, '--as', 'bob'], env),
      runCli(['batches', 'approve', id, '--version', String(v + 1), '--as', 'bob'], env),
    ]);
    expect(habit.stdout).not.toMatch(/approved/);
    expect(stale.code, stale.stdout + stale.stderr).toBe(1);
    expect(stale.stderr).toContain(`now version ${v + 1} with ${now.count} users`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--batch-version/);
    expect(await jobsFor(['avc-0@contoso.com', 'avc-1@contoso.com'])).toBe(0);

    const ok = await runCli(
      ['batches', 'approve', id, '--batch-version', `v${v + 1}`, '--as', 'bob', '--json'],
      env,
    );
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ state: 'approved', version: v + 1, count: now.count });
    expect(await jobsFor(['avc-0@contoso.com', 'avc-1@contoso.com'])).toBe(2);
  }, 120_000);
});

describe('the console form carries the version it showed', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await testApp(PREFIX_ENV);
  });
  afterAll(async () => t?.close());

  it('a user who joined after the page was drawn makes the approval fail with the new count; the page then approves them all', async () => {
    const send = (user: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/offboardings',
        headers: bearer(KEYS.producer),
        payload: { user },
      });
    await send('avw-first@contoso.com');
    const id = (await send('avw-0@contoso.com')).json().batchId as string;
    const bob = new ConsoleClient(t.app);
    await bob.signIn(KEYS.operator);
    const page = await bob.get(`/console/batches/${id}`);
    expect(page.body).toContain('<input type="hidden" name="version" value="1">');
    expect(page.body).toContain('Approve 1 users');
    await send('avw-1@contoso.com');

    expect((await bob.act(`/console/batches/${id}/approve`, { version: '1' })).statusCode).toBe(303);
    const after = await bob.get(`/console/batches/${id}`);
    expect(after.body).toMatch(/changed since version 1 was reviewed: it is now version 2 with 2 users/);
    expect(after.body).toContain('Approve 2 users');
    expect(after.body).toContain('name="version" value="2"');
    // A form without the field (a forged or stale page) is refused too.
    await bob.act(`/console/batches/${id}/approve`);
    expect((await bob.get(`/console/batches/${id}`)).body).toMatch(/name the version of batch/);
    expect((await listBatches(t.ctx, { state: 'held' })).map((b) => b.id)).toContain(id);
    expect(await t.ctx.retire.getDeduplicationJobId('avw-0@contoso.com')).toBeFalsy();

    await bob.act(`/console/batches/${id}/approve`, { version: '2' });
    const done = await bob.get(`/console/batches/${id}`);
    expect(done.body).toContain(`Approved batch ${id}: 2 jobs enqueued`);
    for (const u of ['avw-0@contoso.com', 'avw-1@contoso.com']) {
      expect(await t.ctx.retire.getDeduplicationJobId(u)).toBeTruthy();
    }
  });
});
