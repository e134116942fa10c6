// Every route × {no key, bad key, producer, viewer, operator} → the expected status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/intake/enqueue.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';
import { bearer, KEY_NAMES, KEYS, type TestApi, testApp } from './helpers.js';

type Who = 'none' | 'bad' | 'producer' | 'viewer' | 'operator';
const WHO: Who[] = ['none', 'bad', 'producer', 'viewer', 'operator'];

interface RouteCase {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  body?: () => unknown;
  /** Status for each allowed role; every other role must get 403. Public routes list all five. */
  ok: Partial<Record<Who, number>>;
  basic?: boolean;
}

let t: TestApi;
let jobId: string;
let n = 0;
const user = () => `matrix-${n++}@contoso.com`;

beforeAll(async () => {
  // Every row tries a wrong key from the same address: the failed-authentication limit (tested in
  // security-access.test.ts) would answer 429 long before the matrix is through.
  t = await testApp({ API_AUTH_FAILURE_LIMIT: '1000000/1m' });
  // Requested by the producer key: a producer reads its own requests only (see user-lookup.test.ts).
  jobId = (
    await enqueue(t.ctx, { user: 'seed@contoso.com' }, { requestedBy: KEY_NAMES.producer, source: 'api' })
  ).id;
  await moveToDeadLetter(
    t.ctx,
    {
      id: 'seeded-1',
      data: {
        user: 'dead@contoso.com',
        dryRun: false,
        correlationId: 'c1',
        requestedBy: 'seed',
        requestedAt: new Date().toISOString(),
        source: 'cli',
      },
    },
    { reason: 'not_found', lastStatus: 404, attempts: 1, throttledWaits: 0 },
  );
});
afterAll(async () => t.close());

const ALL_VIEW = { viewer: 200, operator: 200 };

function cases(): RouteCase[] {
  return [
    { method: 'POST', url: '/v1/offboardings', body: () => ({ user: user() }), ok: { producer: 202 } },
    {
      method: 'POST',
      url: '/v1/offboardings/batch',
      body: () => ({ items: [{ user: user() }] }),
      ok: { producer: 202 },
    },
    { method: 'GET', url: `/v1/offboardings/${jobId}`, ok: { producer: 200, viewer: 200, operator: 200 } },
    {
      method: 'GET',
      url: '/v1/offboardings?user=seed@contoso.com',
      ok: { producer: 200, viewer: 200, operator: 200 },
    },
    { method: 'DELETE', url: '/v1/offboardings/no-such-job', ok: { operator: 404 } },
    { method: 'GET', url: '/v1/queues', ok: ALL_VIEW },
    {
      method: 'POST',
      url: '/v1/queues/retire/pause',
      body: () => ({ reason: 'matrix' }),
      ok: { operator: 200 },
    },
    { method: 'POST', url: '/v1/queues/retire/resume', ok: { operator: 200 } },
    { method: 'GET', url: '/v1/dead-letters', ok: ALL_VIEW },
    { method: 'GET', url: '/v1/dead-letters/dl-seeded-1', ok: ALL_VIEW },
    { method: 'POST', url: '/v1/dead-letters/dl-missing/redrive', ok: { operator: 404 } },
    { method: 'DELETE', url: '/v1/dead-letters/dl-missing', ok: { operator: 404 } },
    { method: 'GET', url: '/v1/batches', ok: ALL_VIEW },
    { method: 'GET', url: '/v1/batches/missing', ok: { viewer: 404, operator: 404 } },
    { method: 'GET', url: '/v1/batches/missing/items', ok: { viewer: 404, operator: 404 } },
    { method: 'POST', url: '/v1/batches/missing/approve', ok: { operator: 404 } },
    {
      method: 'POST',
      url: '/v1/batches/missing/reject',
      body: () => ({ reason: 'no' }),
      ok: { operator: 404 },
    },
    { method: 'GET', url: '/metrics', ok: ALL_VIEW },
    // Operators only; without Azure settings the checks run and report the token as not configured.
    { method: 'GET', url: '/v1/preflight', ok: { operator: 200 } },
    { method: 'GET', url: '/v1/evidence', ok: ALL_VIEW },
    { method: 'POST', url: '/v1/offboardings/no-such-job/verify', ok: { operator: 404 } },
    { method: 'GET', url: '/v1/offboardings/no-such-job/secrets', ok: { operator: 404 } },
    // Without a tenants file: the list is empty for viewers and operators, a resume names no tenant.
    { method: 'GET', url: '/v1/tenants', ok: { viewer: 200, operator: 200 } },
    { method: 'POST', url: '/v1/tenants/contoso/resume', ok: { operator: 404 } },
    { method: 'GET', url: '/', ok: ALL_VIEW, basic: true },
    { method: 'GET', url: '/dashboard', ok: { viewer: 302, operator: 302 }, basic: true },
    { method: 'GET', url: '/dashboard/viewer/', ok: ALL_VIEW, basic: true },
    { method: 'GET', url: '/dashboard/viewer/api/queues', ok: ALL_VIEW, basic: true },
    { method: 'GET', url: '/dashboard/operator/', ok: { operator: 200 }, basic: true },
    { method: 'GET', url: '/dashboard/operator/api/queues', ok: { operator: 200 }, basic: true },
    {
      method: 'GET',
      url: '/healthz',
      ok: { none: 200, bad: 200, producer: 200, viewer: 200, operator: 200 },
    },
    { method: 'GET', url: '/readyz', ok: { none: 200, bad: 200, producer: 200, viewer: 200, operator: 200 } },
    {
      method: 'GET',
      url: '/docs/json',
      ok: { none: 200, bad: 200, producer: 200, viewer: 200, operator: 200 },
    },
    { method: 'GET', url: '/docs', ok: { none: 200, bad: 200, producer: 200, viewer: 200, operator: 200 } },
  ];
}

function headers(who: Who, basic: boolean): Record<string, string> {
  if (who === 'none') return {};
  const key = who === 'bad' ? 'obk_not-a-real-key' : KEYS[who];
  if (basic) return { authorization: `Basic ${Buffer.from(`anyone:${key}`).toString('base64')}` };
  return bearer(key);
}

describe('auth matrix', () => {
  it('answers every route × credential with the expected status', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const c of cases()) {
      for (const who of WHO) {
        const expected = c.ok[who] ?? (who === 'none' || who === 'bad' ? 401 : 403);
        const body = c.body?.();
        const res = await t.app.inject({
          method: c.method,
          url: c.url,
          headers: headers(who, c.basic === true),
          ...(body !== undefined ? { payload: body as object } : {}),
        });
        checked++;
        if (res.statusCode !== expected) {
          failures.push(
            `${c.method} ${c.url} as ${who}: ${res.statusCode} (expected ${expected}) ${res.body.slice(0, 200)}`,
          );
          continue;
        }
        if (expected === 401 || expected === 403) {
          const err = res.json() as { error: { code: string } };
          const want = expected === 401 ? 'unauthorized' : 'forbidden';
          if (err.error?.code !== want)
            failures.push(`${c.method} ${c.url} as ${who}: code ${err.error?.code}`);
        }
        if (expected === 401) {
          const challenge = String(res.headers['www-authenticate'] ?? '');
          if (!challenge.startsWith(c.basic ? 'Basic' : 'Bearer')) {
            failures.push(`${c.method} ${c.url} as ${who}: WWW-Authenticate "${challenge}"`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe(cases().length * WHO.length);
  });

  it('covers every operation of the OpenAPI document', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json() as { paths: Record<string, object> };
    const covered = new Set(
      cases().map(
        (c) =>
          `${c.method} ${c.url
            .replace(/\?.*$/, '')
            .replace(jobId, '{id}')
            .replace(/\/(dl-seeded-1|dl-missing|missing|no-such-job)(?=\/|$)/, '/{id}')
            .replace('/v1/tenants/contoso/', '/v1/tenants/{name}/')}`,
      ),
    );
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.length).toBeGreaterThan(15);
    expect(documented.filter((op) => !covered.has(op))).toEqual([]);
  });

  it('accepts Bearer and X-API-Key on the API, Basic only on browser pages, and refuses malformed headers', async () => {
    const url = '/v1/queues';
    const basic = `Basic ${Buffer.from(`x:${KEYS.viewer}`).toString('base64')}`;
    for (const h of [bearer(KEYS.viewer), { 'x-api-key': KEYS.viewer }]) {
      expect((await t.app.inject({ url, headers: h })).statusCode).toBe(200);
    }
    expect((await t.app.inject({ url: '/', headers: { authorization: basic } })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/', headers: bearer(KEYS.viewer) })).statusCode).toBe(200);
    for (const h of [
      { authorization: basic },
      { authorization: 'Bearer' },
      { authorization: 'Token abc' },
      { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
      { authorization: `Bearer ${'x'.repeat(5000)}` },
      { authorization: `Bearer ${KEYS.viewer}x` },
      { authorization: `bearer ${KEYS.viewer.slice(0, -1)}` },
      { 'x-api-key': '' },
    ]) {
      const res = await t.app.inject({ url, headers: h });
      expect(res.statusCode, JSON.stringify(h).slice(0, 80)).toBe(401);
    }
  });

  it('refuses viewer keys every action through the read-only board, server-side', async () => {
    const basic = { authorization: `Basic ${Buffer.from(`x:${KEYS.viewer}`).toString('base64')}` };
    const res = await t.app.inject({
      method: 'PUT',
      url: '/dashboard/viewer/api/queues/retire/pause',
      headers: basic,
    });
    expect(res.statusCode).toBe(403);
    expect(await t.ctx.retire.isPaused()).toBe(false);
  });

  it('refuses dashboard actions sent from another site (Basic credentials ride along in browsers)', async () => {
    const basic = { authorization: `Basic ${Buffer.from(`x:${KEYS.operator}`).toString('base64')}` };
    const url = '/dashboard/operator/api/queues/retire/pause';
    for (const h of [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'null' },
    ]) {
      const res = await t.app.inject({ method: 'PUT', url, headers: { ...basic, ...h } });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('cross_site');
    }
    expect(await t.ctx.retire.isPaused()).toBe(false);
    const own = await t.app.inject({
      method: 'PUT',
      url,
      headers: {
        ...basic,
        origin: 'http://localhost:80',
        host: 'localhost:80',
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(own.statusCode).toBe(200);
    expect(await t.ctx.retire.isPaused()).toBe(true);
    const status = await t.app.inject({ url: '/v1/queues', headers: bearer(KEYS.viewer) });
    expect(status.json().pause).toMatchObject({ actor: 'ops-alice', reason: 'paused from the dashboard' });
    await t.app.inject({ method: 'POST', url: '/v1/queues/retire/resume', headers: bearer(KEYS.operator) });
  });

  it('sends security headers and a request id on every answer', async () => {
    for (const url of ['/v1/queues', '/healthz', '/nope']) {
      const res = await t.app.inject({
        url,
        headers: { ...bearer(KEYS.viewer), 'x-request-id': 'req-abc.1' },
      });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['x-frame-options']).toBeDefined();
      expect(res.headers['x-request-id']).toBe('req-abc.1');
    }
    const weird = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\u0001' } });
    expect(weird.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
