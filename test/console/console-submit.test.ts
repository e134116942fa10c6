// The console's Submit leavers page (producer keys) through app.inject(): the plan enqueues
// nothing, a submit goes through importCsv (guard, audit, requestedBy = the key's name), and the
// page is a producer's only one: other roles are refused on it, producers everywhere else.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBatches } from '../../src/guard/batches.js';
import { readAudit } from '../../src/records/audit.js';
import { KEY_NAMES, KEYS, type TestApi, testApp } from '../api/helpers.js';
import { ConsoleClient } from './helpers.js';

const THRESHOLD = 5;
let t: TestApi;

beforeAll(async () => {
  t = await testApp({
    GUARD_THRESHOLD: String(THRESHOLD),
    CONSOLE_SESSION_KEY: randomBytes(32).toString('base64'),
    // The page's form must take more than the console's 64 KiB form limit.
    API_BODY_LIMIT: String(2 * 1024 * 1024),
  });
});
afterAll(async () => {
  await t?.close();
});

async function retireJobs(): Promise<number> {
  const counts = await t.ctx.retire.getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function producer(): Promise<ConsoleClient> {
  const c = new ConsoleClient(t.app);
  const res = await c.signIn(KEYS.producer);
  expect(res.statusCode).toBe(303);
  return c;
}

async function post(c: ConsoleClient, action: 'check' | 'submit', csv: string, tz = '') {
  const _csrf = await c.csrf('/console/submit');
  return c.post('/console/submit', { _csrf, csv, tz, action });
}

const users = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${tag}.${i}@contoso.com`).join('\n');

describe('submit leavers (producer)', () => {
  it('signs a producer in onto the submit page, with only that page in the navigation', async () => {
    const c = await producer();
    const landing = await c.get('/console');
    expect(landing.statusCode).toBe(303);
    expect(landing.headers.location).toBe('/console/submit');
    const page = await c.get('/console/submit');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<label for="csv">');
    expect(page.body).toContain('Check (nothing is enqueued)');
    expect(page.body).toContain(KEY_NAMES.producer);
    const nav = /<nav[^>]*>(.*?)<\/nav>/s.exec(page.body)?.[1] ?? '';
    expect(nav).toContain('/console/submit');
    expect(nav).not.toContain('/console/batches');
    expect(nav).not.toContain('href="/console"');
    // And it can sign out.
    expect((await c.post('/console/sign-out', { _csrf: await c.csrf('/console/submit') })).statusCode).toBe(
      303,
    );
    expect(c.cookie).toBe('');
  });

  it('checks a file without enqueuing anything and lists the invalid rows with their lines, escaped', async () => {
    const c = await producer();
    const before = await retireJobs();
    const auditBefore = (await readAudit(t.ctx, { count: 10_000 })).length;
    const csv = `user,effectiveAt,reason\nplan.a@contoso.com,,left\nnot an address,,x\nplan.b@contoso.com,not-a-date,"<script>alert(1)</script>"\nplan.a@contoso.com,,again\n`;
    const res = await post(c, 'check', csv);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Check: nothing was enqueued');
    expect(res.body).toMatch(/<dt>new<\/dt><dd>1<\/dd>/);
    expect(res.body).toMatch(/<dt>duplicate<\/dt><dd>1<\/dd>/);
    expect(res.body).toMatch(/<dt>invalid<\/dt><dd class="bad">2<\/dd>/);
    expect(res.body).toContain('<td class="num">3</td>');
    expect(res.body).toContain('<td class="num">4</td>');
    expect(res.body).toMatch(/held for approval<\/dt><dd>no/);
    expect(res.body).not.toContain('<script>alert');
    expect(await retireJobs()).toBe(before);
    expect(await listBatches(t.ctx, { limit: 100 })).toHaveLength(0);
    // The plan itself is audited (issue 19 item 11): one `planned` entry, nothing else.
    const after = await readAudit(t.ctx, { count: 10_000 });
    expect(after.length).toBe(auditBefore + 1);
    expect(after[0]).toMatchObject({
      type: 'planned',
      details: { source: 'import', lines: 4, new: 1, invalid: 2 },
    });
    // Above the threshold the plan says it would be held, still enqueuing nothing.
    const big = await post(c, 'check', `user\n${users('plan-big', THRESHOLD + 1)}`);
    expect(big.body).toMatch(/held for approval<\/dt><dd><span class="warn">yes<\/span>/);
    expect(await retireJobs()).toBe(before);
    expect(await listBatches(t.ctx, { limit: 100 })).toHaveLength(0);
  });

  it('submits 3 users as 3 jobs requested by the producer key', async () => {
    const c = await producer();
    const before = await retireJobs();
    const res = await post(c, 'submit', `user,reason\n${users('sub', 3).replaceAll('\n', ',left\n')},left`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Submitted: 3 jobs enqueued.');
    expect(await retireJobs()).toBe(before + 3);
    const jobs = (await t.ctx.retire.getJobs(['waiting', 'delayed', 'prioritized'])).filter((j) =>
      j.data.user.startsWith('sub.'),
    );
    expect(jobs.map((j) => j.data.user).sort()).toEqual([0, 1, 2].map((i) => `sub.${i}@contoso.com`));
    for (const j of jobs) {
      expect(j.data.requestedBy).toBe(KEY_NAMES.producer);
      expect(j.data.source).toBe('import');
    }
    const audit = await readAudit(t.ctx, { count: 10_000 });
    expect(
      audit.filter((e) => e.type === 'requested' && e.actor === KEY_NAMES.producer).length,
    ).toBeGreaterThanOrEqual(3);
  });

  it('holds a submit above GUARD_THRESHOLD as one batch and enqueues nothing', async () => {
    const c = await producer();
    const before = await retireJobs();
    // Larger than the console's 64 KiB form limit: this route takes the API's body limit.
    const padding = 'x'.repeat(400);
    const rows = Array.from({ length: 200 }, (_, i) => `held.${i}@contoso.com,${padding}`).join('\n');
    const res = await post(c, 'submit', `user,reason\n${rows}`);
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    expect(await retireJobs()).toBe(before);
    const held = await listBatches(t.ctx, { state: 'held', limit: 100 });
    expect(held).toHaveLength(1);
    expect(held[0]?.count).toBe(200);
    expect(held[0]?.submittedBy).toBe(KEY_NAMES.producer);
    expect(res.body).toContain(`Held for approval as batch <strong class="mono">${held[0]?.id}</strong>`);
    // No operator link for a producer.
    expect(res.body).not.toContain('href="/console/batches/');
  });

  it('shows a clear error for an unknown time zone or a bad header, and enqueues nothing', async () => {
    const c = await producer();
    const before = await retireJobs();
    const tz = await post(c, 'submit', 'user,effectiveAt\ntz.a@contoso.com,2030-01-01', 'Mars/Base');
    expect(tz.statusCode).toBe(400);
    expect(tz.body).toContain('unknown time zone');
    const header = await post(c, 'submit', 'email\nh.a@contoso.com');
    expect(header.statusCode).toBe(400);
    expect(header.body).toContain('role="alert"');
    expect(await retireJobs()).toBe(before);
  });
});

describe('who may use it', () => {
  it('refuses a producer every other page and every operator action', async () => {
    const c = await producer();
    const token = await c.csrf('/console/submit');
    for (const url of [
      '/console/batches',
      '/console/dead-letters',
      '/console/lookup?q=a',
      '/console/schedules',
    ]) {
      const res = await c.get(url);
      expect(res.statusCode, url).toBe(403);
    }
    const [batch] = await listBatches(t.ctx, { state: 'held', limit: 1 });
    for (const url of [
      `/console/batches/${batch?.id ?? 'b-1'}/approve`,
      `/console/batches/${batch?.id ?? 'b-1'}/reject`,
      '/console/dead-letters/dl-x/redrive',
      '/console/queue/pause',
      '/console/queue/resume',
    ]) {
      const res = await c.post(url, { _csrf: token });
      expect(res.statusCode, url).toBe(403);
    }
    expect(await t.ctx.retire.isPaused()).toBe(false);
    if (batch)
      expect((await listBatches(t.ctx, { state: 'held', limit: 100 })).map((b) => b.id)).toContain(batch.id);
  });

  it('refuses viewers and operators on the submit page', async () => {
    for (const key of [KEYS.viewer, KEYS.operator]) {
      const c = new ConsoleClient(t.app);
      await c.signIn(key);
      const before = await retireJobs();
      const page = await c.get('/console');
      expect(page.body).not.toContain('/console/submit');
      expect((await c.get('/console/submit')).statusCode).toBe(403);
      const res = await c.post('/console/submit', {
        _csrf: await c.csrf(),
        csv: 'user\nforged@contoso.com',
        action: 'submit',
      });
      expect(res.statusCode).toBe(403);
      expect(await retireJobs()).toBe(before);
    }
  });

  it('refuses a submit without a session, without the CSRF token, or with a wrong one', async () => {
    const before = await retireJobs();
    const anon = new ConsoleClient(t.app);
    expect((await anon.get('/console/submit')).headers.location).toBe('/console/sign-in');
    const form = { csv: 'user\ncsrf@contoso.com', action: 'submit' };
    expect((await anon.post('/console/submit', { _csrf: 'x', ...form })).statusCode).toBe(401);
    const c = await producer();
    const forms: Record<string, string>[] = [{}, { _csrf: '' }, { _csrf: 'A'.repeat(43) }];
    for (const extra of forms) {
      const res = await c.post('/console/submit', { ...form, ...extra });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('security token');
    }
    expect(await retireJobs()).toBe(before);
  });
});
