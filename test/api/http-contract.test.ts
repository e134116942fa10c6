// The HTTP contract clients build on: RFC 9457 problem details on every error path (with the
// original `error` object kept), IETF RateLimit fields, and Idempotency-Key on the intake POSTs
// (a retried request answers the first answer and stores nothing new).
// biome-ignore-all lint/suspicious/noExplicitAny: answers and the document are JSON read like res.json()
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/records/audit.js';
import { bearer, KEY_NAMES, KEYS, type TestApi, testApp } from './helpers.js';

const RATE_LIMIT = 40;
let t: TestApi;
beforeAll(async () => {
  t = await testApp({ GUARD_THRESHOLD: '3', API_RATE_LIMIT: String(RATE_LIMIT), API_BODY_LIMIT: '16384' });
});
afterAll(async () => t.close());

const producer = bearer(KEYS.producer);

function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): any },
  code: string,
) {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({
    type: `tag:offboard,2026:problem:${code}`,
    status: res.statusCode,
    code,
    error: { code, message: body.detail },
  });
  expect(typeof body.title).toBe('string');
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.detail.length).toBeGreaterThan(0);
  expect(body.instance).toMatch(/^\//);
  expect(body.instance).not.toContain('?');
  return body;
}

describe('errors are RFC 9457 problem details', () => {
  it('on validation errors, unknown routes, missing keys, wrong roles and oversized bodies', async () => {
    const invalid = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings',
      headers: producer,
      payload: { user: 'x@contoso.com', extra: 1 },
    });
    expect(invalid.statusCode).toBe(400);
    const body = expectProblem(invalid, 'invalid_request');
    expect(body.instance).toBe('/v1/offboardings');
    expect(body.details).toEqual(body.error.details);

    const unknown = await t.app.inject({
      url: '/v1/nothing-here?user=secret@contoso.com',
      headers: producer,
    });
    expect(unknown.statusCode).toBe(404);
    expect(expectProblem(unknown, 'not_found').instance).toBe('/v1/nothing-here');

    const anonymous = await t.app.inject({ url: '/v1/queues' });
    expect(anonymous.statusCode).toBe(401);
    expectProblem(anonymous, anonymous.json().code);

    const wrongRole = await t.app.inject({
      method: 'POST',
      url: '/v1/queues/retire/pause',
      headers: producer,
    });
    expect(wrongRole.statusCode).toBe(403);
    expectProblem(wrongRole, wrongRole.json().code);

    const big = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings',
      headers: { ...producer, 'content-type': 'application/json' },
      payload: JSON.stringify({ user: 'big@contoso.com', reason: 'x'.repeat(20_000) }),
    });
    expect(big.statusCode).toBe(413);
    expectProblem(big, 'payload_too_large');

    const badJson = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings',
      headers: { ...producer, 'content-type': 'application/json' },
      payload: '{"user":',
    });
    expect(badJson.statusCode).toBe(400);
    expectProblem(badJson, 'invalid_json');
  });

  it('documents one Problem schema, referenced by every error response of the API', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    expect(doc.components.schemas.Problem.required).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance', 'code', 'error']),
    );
    let count = 0;
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      // The readiness probe and the status page answer 503 with their own bodies, for probes and people.
      if (path === '/readyz' || path === '/') continue;
      for (const [method, op] of Object.entries<any>(ops)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          if (Number(status) < 400) continue;
          expect(Object.keys(response.content), `${method} ${path} ${status}`).toEqual([
            'application/problem+json',
          ]);
          expect(response.content['application/problem+json'].schema).toEqual({
            $ref: '#/components/schemas/Problem',
          });
          count += 1;
        }
      }
    }
    expect(count).toBeGreaterThan(50);
  });
});

describe('rate limits in the IETF form', () => {
  it('sends RateLimit-Policy and RateLimit, and a problem on 429', async () => {
    const viewer = bearer(KEYS.viewer);
    const first = await t.app.inject({ url: '/v1/queues', headers: viewer });
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe(`"api";q=${RATE_LIMIT};w=60`);
    const m = /^"api";r=(\d+);t=(\d+)$/.exec(String(first.headers.ratelimit));
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBe(RATE_LIMIT - 1);
    expect(Number(m?.[2])).toBeGreaterThan(0);
    expect(Number(m?.[2])).toBeLessThanOrEqual(60);
    expect(first.headers['x-ratelimit-limit']).toBe(String(RATE_LIMIT));

    let last = first;
    for (let i = 0; i < RATE_LIMIT && last.statusCode !== 429; i++) {
      last = await t.app.inject({ url: '/v1/queues', headers: viewer });
    }
    expect(last.statusCode).toBe(429);
    expectProblem(last, 'rate_limited');
    expect(last.headers.ratelimit).toMatch(/^"api";r=0;t=\d+$/);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    // Probes are not rate limited and promise no quota.
    const probe = await t.app.inject({ url: '/healthz' });
    expect(probe.headers['ratelimit-policy']).toBeUndefined();
  });
});

async function auditCount(type: string): Promise<number> {
  return (await readAudit(t.ctx, { count: 10_000 })).filter((a) => a.type === type).length;
}

describe('Idempotency-Key on the intake POSTs', () => {
  it('answers a retried single request with the first answer and stores nothing new', async () => {
    const send = (payload: object, key = 'single-0001') =>
      t.app.inject({
        method: 'POST',
        url: '/v1/offboardings',
        headers: { ...producer, 'idempotency-key': key },
        payload,
      });
    const first = await send({ user: 'idem-one@contoso.com', reason: 'left' });
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const requested = await auditCount('requested');
    const duplicates = await auditCount('duplicate');

    // Same body, keys in another order: the same request.
    const again = await send({ reason: 'left', user: 'idem-one@contoso.com' });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(again.headers.location).toBe(first.headers.location);
    expect(await auditCount('requested')).toBe(requested);
    expect(await auditCount('duplicate')).toBe(duplicates);

    const other = await send({ user: 'idem-two@contoso.com' });
    expect(other.statusCode).toBe(422);
    expectProblem(other, 'idempotency_key_reused');
    expect(await auditCount('requested')).toBe(requested);

    // Without the header, the same request is an ordinary duplicate (intake's own deduplication).
    const plain = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings',
      headers: producer,
      payload: { user: 'idem-one@contoso.com', reason: 'left' },
    });
    expect(plain.statusCode).toBe(200);
    expect(plain.json().duplicate).toBe(true);
  });

  it('refuses malformed keys with 400 and stores nothing', async () => {
    for (const key of ['has space', 'x'.repeat(256), 'é-accent']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/offboardings',
        headers: { ...producer, 'idempotency-key': key },
        payload: { user: 'idem-bad@contoso.com' },
      });
      expect(res.statusCode, key).toBe(400);
      expectProblem(res, 'invalid_request');
    }
    const jobs = await t.app.inject({ url: '/v1/offboardings?user=idem-bad@contoso.com', headers: producer });
    expect(jobs.json().items).toEqual([]);
  });

  it('retrying a held batch POST answers the same batch id and leaves one held batch', async () => {
    const items = Array.from({ length: 5 }, (_, i) => ({ user: `idem-batch${i}@contoso.com` }));
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/v1/offboardings/batch',
        headers: { ...producer, 'idempotency-key': '5b0c7a52-batch-retry' },
        payload: { items },
      });
    const first = await send();
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ held: true, batch: { state: 'held', count: 5 } });
    const held = await auditCount('held');
    const again = await send();
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().batch.id).toBe(first.json().batch.id);
    // The viewer key spent its quota above.
    const list = await t.app.inject({ url: '/v1/batches?state=held', headers: bearer(KEYS.operator) });
    const mine = list
      .json()
      .items.filter((b: { sample: string[] }) => b.sample.includes('idem-batch0@contoso.com'));
    expect(mine).toHaveLength(1);
    expect(await auditCount('held')).toBe(held);
  });

  it('answers a concurrent retry 409 instead of running the request twice', async () => {
    const items = Array.from({ length: 200 }, (_, i) => ({ user: `idem-race${i}@contoso.com` }));
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/v1/offboardings/batch',
        headers: { ...producer, 'idempotency-key': 'race-0001' },
        payload: { items },
      });
    const answers = await Promise.all([send(), send(), send()]);
    const ids = new Set<string>();
    for (const res of answers) {
      if (res.statusCode === 409) expectProblem(res, 'idempotency_in_progress');
      else {
        expect(res.statusCode).toBe(202);
        ids.add(res.json().batch.id);
      }
    }
    expect(answers.some((r) => r.statusCode === 409)).toBe(true);
    expect(ids.size).toBe(1);
    const list = await t.app.inject({ url: '/v1/batches?state=held', headers: bearer(KEYS.operator) });
    const mine = list
      .json()
      .items.filter((b: { sample: string[] }) => b.sample.includes('idem-race0@contoso.com'));
    expect(mine).toHaveLength(1);
  });

  it('scopes keys per API key name (a key name is part of the stored key)', async () => {
    const stored = await t.ctx.redis.keys(`${t.ctx.prefix}:offboard:idempotency:*`);
    expect(stored.length).toBeGreaterThan(0);
    for (const k of stored) expect(k).toContain(`:idempotency:${KEY_NAMES.producer}:`);
    expect(await t.ctx.redis.ttl(stored[0] ?? '')).toBeGreaterThan(23 * 3600);
  });
});
