// The console through app.inject(): every way around the guard, the roles, CSRF and the audit that
// a browser (or a forger) could try, and the session rules. Real Redis, the real app.
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { getQueueStatus } from '../../src/control/queue-control.js';
import { submitBulk } from '../../src/front-door/front-door.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { readAudit } from '../../src/records/audit.js';
import { countGraphCallMinute, readMinutes } from '../../src/records/minute-counters.js';
import { apiConfig, bearer, KEY_NAMES, KEYS, memoryLogger, type TestApi, testApp } from '../api/helpers.js';
import { ConsoleClient, seedDeadLetter } from './helpers.js';

const SESSION_KEY = randomBytes(32).toString('base64');
let t: TestApi;

beforeAll(async () => {
  t = await testApp({
    GUARD_THRESHOLD: '2',
    GUARD_TWO_PERSON: 'true',
    CONSOLE_SESSION_KEY: SESSION_KEY,
    API_AUTH_FAILURE_LIMIT: '5/1m',
  });
});
afterAll(async () => {
  await t?.close();
});

async function auditTypes(): Promise<string[]> {
  return (await readAudit(t.ctx, { count: 1000 })).map((e) => `${e.type}:${e.actor}`);
}

const ACTIONS: [string, Record<string, string>][] = [
  ['/console/queue/pause', { reason: 'forged' }],
  ['/console/queue/resume', {}],
  ['/console/batches/b-1/approve', {}],
  ['/console/batches/b-1/reject', {}],
  ['/console/dead-letters/dl-x/redrive', {}],
  ['/console/dead-letters/dl-x/discard', {}],
  ['/console/dead-letters/bulk', { action: 'discard', expected: '0' }],
  ['/console/jobs/x/cancel', {}],
  ['/console/jobs/x/reschedule', { effectiveAt: '2030-01-01T00:00' }],
  ['/console/jobs/x/verify', {}],
  ['/console/preflight', {}],
];
const PAGES = [
  '/console',
  '/console/lookup?q=a@contoso.com',
  '/console/batches',
  '/console/batches/b-1',
  '/console/dead-letters',
  '/console/dead-letters/dl-x',
  '/console/dead-letters/confirm?action=redrive',
  '/console/schedules',
];

describe('no session', () => {
  it('sends every page to sign-in and refuses every action with 401; only sign-in and the stylesheet are public', async () => {
    const c = new ConsoleClient(t.app);
    for (const url of PAGES) {
      const res = await c.get(url);
      expect(res.statusCode, url).toBe(303);
      expect(res.headers.location).toBe('/console/sign-in');
    }
    for (const [url, form] of [...ACTIONS, ['/console/sign-out', {}] as [string, Record<string, string>]]) {
      const res = await c.post(url, { _csrf: 'x', ...form });
      expect(res.statusCode, url).toBe(401);
    }
    expect((await c.get('/console/sign-in')).statusCode).toBe(200);
    const css = await c.get('/console/assets/console.css');
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toContain('text/css');
    // An unknown console path is a 404, not a page.
    expect((await c.get('/console/nope')).statusCode).toBe(404);
  });

  it('does not take an API key header instead of the session, nor the session on the JSON API', async () => {
    const c = new ConsoleClient(t.app);
    const res = await c.get('/console', bearer(KEYS.operator));
    expect(res.statusCode).toBe(303);
    const post = await c.post('/console/queue/pause', { _csrf: 'x' }, { 'x-api-key': KEYS.operator });
    expect(post.statusCode).toBe(401);
    await c.signIn(KEYS.operator);
    const api = await t.app.inject({
      method: 'POST',
      url: '/v1/queues/retire/pause',
      headers: { cookie: c.cookie, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(api.statusCode).toBe(401);
    expect(await t.ctx.retire.isPaused()).toBe(false);
  });

  it('refuses a forged or tampered cookie', async () => {
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.operator);
    const value = decodeURIComponent(c.cookie.split('=')[1] as string);
    const flipped = `${value[0] === 'A' ? 'B' : 'A'}${value.slice(1)}`;
    for (const cookie of [
      `offboard_console=${encodeURIComponent(flipped)}`,
      `offboard_console=${encodeURIComponent(`${randomBytes(60).toString('base64')};${randomBytes(24).toString('base64')}`)}`,
      'offboard_console=garbage',
    ]) {
      const res = await t.app.inject({ method: 'GET', url: '/console', headers: { cookie } });
      expect(res.statusCode).toBe(303);
    }
  });
});

describe('sign-in', () => {
  it('refuses a wrong key, counts it against the failure budget, and sets a strict cookie for a good one', async () => {
    const c = new ConsoleClient(t.app);
    const bad = await c.signIn('obk_not-a-real-key');
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toContain('not valid');
    const good = await c.signIn(KEYS.viewer);
    expect(good.statusCode).toBe(303);
    const set = String(good.headers['set-cookie']);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Path=\/console/);
    expect(set).toMatch(/Max-Age=\d+/);
    // Not over TLS here: no Secure flag; behind a TLS proxy it is set (next test).
    expect(set).not.toMatch(/Secure/);
    const page = await c.get('/console');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(KEY_NAMES.viewer);
  });

  it('marks the cookie Secure when the console is reached over TLS', async () => {
    const c = new ConsoleClient(t.app);
    const token = await c.csrf('/console/sign-in');
    const res = await c.post(
      '/console/sign-in',
      { _csrf: token, key: KEYS.viewer },
      { 'x-forwarded-proto': 'https' },
    );
    expect(String(res.headers['set-cookie'])).toMatch(/Secure/);
  });

  it('starts a fresh session at sign-in: a token planted before sign-in is worthless after it', async () => {
    const c = new ConsoleClient(t.app);
    const before = await c.csrf('/console/sign-in');
    await c.post('/console/sign-in', { _csrf: before, key: KEYS.operator });
    const res = await c.post('/console/queue/pause', { _csrf: before, reason: 'planted' });
    expect(res.statusCode).toBe(403);
    expect(await t.ctx.retire.isPaused()).toBe(false);
  });

  it('signs out: the cookie is cleared and the pages ask for sign-in again', async () => {
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.viewer);
    const out = await c.act('/console/sign-out');
    expect(out.statusCode).toBe(303);
    expect(c.cookie).toBe('');
    expect((await c.get('/console')).statusCode).toBe(303);
  });

  it('blocks an address after too many failed sign-ins (shared with the API budget)', async () => {
    const { app, close } = await (async () => {
      // Its own prefix: the failures of the other tests do not count here.
      const config = apiConfig(t.redis, {
        API_AUTH_FAILURE_LIMIT: '3/1m',
        QUEUE_PREFIX: `${t.redis.prefix}f`,
      });
      const a = await buildApp(config, { logger: memoryLogger('warn').logger });
      return { app: a, close: () => a.close() };
    })();
    try {
      const c = new ConsoleClient(app);
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await c.signIn(`obk_wrong-${i}`)).statusCode);
      expect(codes.slice(0, 3)).toEqual([401, 401, 401]);
      expect(codes[4]).toBe(429);
      // Only failures are throttled (issue 19 item 5): the right key still signs in.
      expect((await c.signIn(KEYS.operator)).statusCode).toBe(303);
    } finally {
      await close();
    }
  });
});

describe('sessions and keys', () => {
  it('a session survives a restart and another replica with the same CONSOLE_SESSION_KEY, not with another key, and ends when its key is removed', async () => {
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.operator);
    const replica = await buildApp(apiConfig(t.redis, { CONSOLE_SESSION_KEY: SESSION_KEY }), {
      logger: memoryLogger('warn').logger,
    });
    const stranger = await buildApp(
      apiConfig(t.redis, { CONSOLE_SESSION_KEY: randomBytes(32).toString('base64') }),
      {
        logger: memoryLogger('warn').logger,
      },
    );
    const withoutKey = await buildApp(
      apiConfig(t.redis, {
        CONSOLE_SESSION_KEY: SESSION_KEY,
        API_KEYS: apiConfig(t.redis)
          .api.keys.filter((k) => k.name !== KEY_NAMES.operator)
          .map((k) => `${k.name}:${k.role}:${k.sha256}`)
          .join(','),
      }),
      { logger: memoryLogger('warn').logger },
    );
    try {
      const get = (app: typeof replica) =>
        app.inject({ method: 'GET', url: '/console', headers: { cookie: c.cookie } });
      expect((await get(replica)).statusCode).toBe(200);
      expect((await get(stranger)).statusCode).toBe(303);
      expect((await get(withoutKey)).statusCode).toBe(303);
    } finally {
      await Promise.all([replica.close(), stranger.close(), withoutKey.close()]);
    }
  });

  it('warns once at start when CONSOLE_SESSION_KEY is unset', async () => {
    const { logger, lines } = memoryLogger('warn');
    const app = await buildApp(apiConfig(t.redis), { logger });
    await app.ready();
    await app.close();
    expect(lines.join('\n')).toContain('CONSOLE_SESSION_KEY is not set');
  });
});

describe('roles', () => {
  it('shows a viewer no action controls and refuses every action a viewer forges, with a valid CSRF token', async () => {
    await seedDeadLetter(t.ctx, 'viewer.case@contoso.com', 'not_found');
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.viewer);
    for (const url of ['/console', '/console/dead-letters', '/console/batches']) {
      const page = await c.get(url);
      expect(page.statusCode).toBe(200);
      const forms = page.body.match(/<form[^>]*method="post"[^>]*>/g) ?? [];
      expect(forms, url).toEqual(['<form method="post" action="/console/sign-out">']);
    }
    expect((await c.get('/console/dead-letters/confirm?action=discard')).statusCode).toBe(403);
    const auditBefore = (await readAudit(t.ctx, { count: 1000 })).length;
    const dlBefore = await t.ctx.deadLetter.getJobCountByTypes('waiting');
    for (const [url, form] of ACTIONS) {
      const res = await c.act(url, form);
      expect(res.statusCode, url).toBe(403);
    }
    expect((await readAudit(t.ctx, { count: 1000 })).length).toBe(auditBefore);
    expect(await t.ctx.deadLetter.getJobCountByTypes('waiting')).toBe(dlBefore);
    expect(await t.ctx.retire.isPaused()).toBe(false);
  });
});

describe('CSRF and cross-site', () => {
  it('refuses an operator POST without the token, with a wrong one, or with another session`s', async () => {
    const alice = new ConsoleClient(t.app);
    const bob = new ConsoleClient(t.app);
    await alice.signIn(KEYS.operator);
    await bob.signIn(KEYS.operator2);
    const bobToken = await bob.csrf();
    const auditBefore = (await readAudit(t.ctx, { count: 1000 })).length;
    const forms: Record<string, string>[] = [
      {},
      { _csrf: '' },
      { _csrf: 'A'.repeat(43) },
      { _csrf: bobToken },
    ];
    for (const form of forms) {
      const res = await alice.post('/console/queue/pause', { ...form, reason: 'csrf' });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('security token');
    }
    // JSON instead of a form: same rule.
    const json = await t.app.inject({
      method: 'POST',
      url: '/console/queue/pause',
      headers: { cookie: alice.cookie, 'content-type': 'application/json' },
      payload: JSON.stringify({ reason: 'json' }),
    });
    expect(json.statusCode).toBe(403);
    expect(await t.ctx.retire.isPaused()).toBe(false);
    expect((await readAudit(t.ctx, { count: 1000 })).length).toBe(auditBefore);
  });

  it('refuses a POST that comes from another site even with session and token', async () => {
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.operator);
    const token = await c.csrf();
    const foreign: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ];
    for (const headers of foreign) {
      const res = await c.post('/console/queue/pause', { _csrf: token, reason: 'x' }, headers);
      expect(res.statusCode).toBe(403);
    }
    expect(await t.ctx.retire.isPaused()).toBe(false);
  });
});

describe('actions go through the audited library path', () => {
  it('pauses with a reason and resumes, audited under the key name', async () => {
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.operator);
    expect((await c.act('/console/queue/pause', { reason: 'change freeze' })).headers.location).toBe(
      '/console',
    );
    const status = await getQueueStatus(t.ctx);
    expect(status.paused).toBe(true);
    expect(status.pause).toMatchObject({ reason: 'change freeze', actor: KEY_NAMES.operator });
    const page = await c.get('/console');
    expect(page.body).toContain('Retire queue paused: change freeze');
    expect(page.body).toContain('Resume the retire queue');
    await c.act('/console/queue/resume');
    expect(await t.ctx.retire.isPaused()).toBe(false);
    const types = await auditTypes();
    expect(types).toContain(`paused:${KEY_NAMES.operator}`);
    expect(types).toContain(`resumed:${KEY_NAMES.operator}`);
  });

  it('refuses self-approval under the two-person rule with a clear message; another operator approves', async () => {
    const users = ['tp1@contoso.com', 'tp2@contoso.com', 'tp3@contoso.com'];
    const out = await submitBulk(
      t.ctx,
      users.map((user) => ({ user })),
      { requestedBy: KEY_NAMES.operator, source: 'cli' },
    );
    if (!out.held) throw new Error('expected a held batch');
    const id = out.batch.id;
    const alice = new ConsoleClient(t.app);
    await alice.signIn(KEYS.operator);
    const page = await alice.get(`/console/batches/${id}`);
    expect(page.body).toContain('You (ops-alice) submitted this batch');
    const refused = await alice.act(`/console/batches/${id}/approve`, { version: '1' });
    expect(refused.statusCode).toBe(303);
    const after = await alice.get(`/console/batches/${id}`);
    expect(after.body).toContain('Refused by the two-person rule');
    expect(after.body).toMatch(/<dd class="warn">held<\/dd>/);
    expect(await t.ctx.retire.getDeduplicationJobId('tp1@contoso.com')).toBeFalsy();

    const bob = new ConsoleClient(t.app);
    await bob.signIn(KEYS.operator2);
    await bob.act(`/console/batches/${id}/approve`, { version: '1' });
    const approved = await bob.get(`/console/batches/${id}`);
    expect(approved.body).toContain('Approved batch');
    expect(approved.body).toContain('tp1@contoso.com');
    for (const u of users) expect(await t.ctx.retire.getDeduplicationJobId(u)).toBeTruthy();
    expect(await auditTypes()).toContain(`approved:${KEY_NAMES.operator2}`);
  });

  it('redrives one dead letter (it leaves the list) and discards all of a reason after confirming the count', async () => {
    const one = await seedDeadLetter(t.ctx, 'redrive.me@contoso.com', 'retries_exhausted');
    const gone = [
      await seedDeadLetter(t.ctx, 'gone1@contoso.com', 'forbidden'),
      await seedDeadLetter(t.ctx, 'gone2@contoso.com', 'forbidden'),
    ];
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.operator);
    expect((await c.get('/console/dead-letters')).body).toContain(one);
    await c.act(`/console/dead-letters/${one}/redrive`, { back: 'retries_exhausted' });
    const list = await c.get('/console/dead-letters?reason=retries_exhausted');
    expect(list.body).toContain(`Redriven ${one}`);
    expect(list.body).not.toContain(`href="/console/dead-letters/${one}"`);
    expect(await t.ctx.retire.getDeduplicationJobId('redrive.me@contoso.com')).toBeTruthy();

    const confirm = await c.get('/console/dead-letters/confirm?action=discard&reason=forbidden');
    expect(confirm.body).toContain('Discard 2 dead letter(s) with reason forbidden?');
    // A stale count (another one arrived) does nothing.
    const stale = await c.act('/console/dead-letters/bulk', {
      action: 'discard',
      reason: 'forbidden',
      expected: '1',
    });
    expect(stale.headers.location).toContain('/console/dead-letters/confirm');
    for (const id of gone) expect(await t.ctx.deadLetter.getJob(id)).toBeTruthy();
    await c.act('/console/dead-letters/bulk', {
      action: 'discard',
      reason: 'forbidden',
      expected: '2',
      note: 'left org',
    });
    for (const id of gone) expect(await t.ctx.deadLetter.getJob(id)).toBeFalsy();
    const audit = await readAudit(t.ctx, { count: 1000 });
    const discarded = audit.filter(
      (e) => e.type === 'discarded' && gone.includes((e.details as { deadLetterId: string }).deadLetterId),
    );
    expect(discarded).toHaveLength(2);
    for (const e of discarded) {
      expect(e.actor).toBe(KEY_NAMES.operator);
      expect(e.details).toMatchObject({ note: 'left org' });
    }
    expect(audit.some((e) => e.type === 'redriven' && e.actor === KEY_NAMES.operator)).toBe(true);
  });

  it('finds a leaver by UPN, job id and correlation id, and cancels and reschedules a pending job', async () => {
    const later = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const job = await enqueue(
      t.ctx,
      { user: 'Future.Leaver@contoso.com', effectiveAt: later, correlationId: 'HR-LOOKUP-1' },
      { requestedBy: 'hr-system', source: 'api' },
    );
    // 09:00 Berlin wall time 30 days ahead, and the instant it is.
    const local = DateTime.now().setZone('Europe/Berlin').plus({ days: 30 }).toFormat("yyyy-MM-dd'T'09:00");
    const utc = DateTime.fromISO(local, { zone: 'Europe/Berlin' }).toUTC().toISO();
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.operator);
    for (const q of ['future.leaver@contoso.com', job.id, 'HR-LOOKUP-1']) {
      const res = await c.get(`/console/lookup?q=${encodeURIComponent(q)}`);
      expect(res.body, q).toContain(job.id);
      expect(res.body).toContain('delayed');
      expect(res.body).toContain('Reschedule');
    }
    const moveRes = await c.act(`/console/jobs/${job.id}/reschedule`, {
      effectiveAt: local,
      tz: 'Europe/Berlin',
    });
    expect((await c.get(moveRes.headers.location as string)).body).toContain(`now leaves at ${utc}`);
    const moved = await t.ctx.retire.getJob(job.id);
    expect(moved?.data.effectiveAt).toBe(utc);
    const bad = await c.act(`/console/jobs/${job.id}/reschedule`, {
      effectiveAt: local,
      tz: 'Mars/Base',
    });
    expect(bad.statusCode).toBe(303);
    expect((await c.get(bad.headers.location as string)).body).toContain('unknown time zone');
    await c.act(`/console/jobs/${job.id}/cancel`, { note: 'not leaving after all' });
    expect(await t.ctx.retire.getJob(job.id)).toBeFalsy();
    const types = await auditTypes();
    expect(types).toContain(`rescheduled:${KEY_NAMES.operator}`);
    expect(types).toContain(`cancelled:${KEY_NAMES.operator}`);
  });
});

describe('rendering', () => {
  it('renders hostile reason and correlation id as inert text under a CSP without scripts', async () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings',
      headers: { ...bearer(KEYS.producer), 'content-type': 'application/json' },
      payload: JSON.stringify({
        user: 'hostile@contoso.com',
        reason: hostile,
        correlationId: 'HR-HOSTILE-1',
        effectiveAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    });
    expect(res.statusCode, res.body).toBe(202);
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.viewer);
    const page = await c.get('/console/lookup?q=hostile%40contoso.com');
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).not.toContain('<svg onload');
    expect(page.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    // A correlation id the intake would refuse, as it could sit in Redis from elsewhere.
    const dl = await seedDeadLetter(t.ctx, 'hostile2@contoso.com', 'bad_request', {
      correlationId: '"><svg onload=alert(3)>',
      reason: hostile,
    });
    const detail = await c.get(`/console/dead-letters/${dl}`);
    expect(detail.body).not.toContain('<svg onload');
    expect(detail.body).not.toContain('<script>alert');
    expect(detail.body).toContain('&#34;&#62;&#60;svg onload&#61;alert(3)&#62;');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('script-src');
  });

  it('charts the per-minute counters the worker writes, bounded by expiry', async () => {
    const now = Date.now();
    for (const s of [204, 204, 429, 503, 'timeout']) countGraphCallMinute(t.ctx.redis, t.ctx.prefix, s, now);
    await new Promise((r) => setTimeout(r, 100));
    const rows = await readMinutes(t.ctx.redis, t.ctx.prefix, 5, now);
    expect(rows.at(-1)?.counts).toMatchObject({ ok: 2, throttled: 1, server_error: 1, timeout: 1 });
    const ttl = await t.ctx.redis.ttl(`${t.ctx.prefix}:offboard:minute:${Math.floor(now / 60_000)}`);
    expect(ttl).toBeGreaterThan(360 * 60);
    expect(ttl).toBeLessThanOrEqual(361 * 60);
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.viewer);
    const page = await c.get('/console?hours=1');
    expect(page.body).toContain('<svg');
    expect(page.body).toMatch(/429 throttled: 1/);
    expect(page.body).toMatch(/5xx: 1/);
  });
});
