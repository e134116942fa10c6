// Intake through the API: single requests, 10,000-item batches (with the measured rate), duplicates
// within and across batches, per-item refusals, and the mass-change guard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitBulk } from '../../src/front-door/front-door.js';
import { keys as redisKeys } from '../../src/queue/names.js';
import { readAudit, userHistory } from '../../src/records/audit.js';
import { bearer, KEY_NAMES, KEYS, type TestApi, testApp } from './helpers.js';

let t: TestApi;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const post = (
  url: string,
  payload: unknown,
  key: string = KEYS.producer,
  headers: Record<string, string> = {},
) =>
  t.app.inject({ method: 'POST', url, payload: payload as object, headers: { ...bearer(key), ...headers } });

describe('POST /v1/offboardings', () => {
  it('stores the job (202) with the key name as requested-by, then answers 200 duplicate', async () => {
    const res = await post('/v1/offboardings', {
      user: 'Carol@Contoso.com',
      reason: 'left',
      correlationId: 'HR-1',
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ user: 'carol@contoso.com', state: 'waiting', duplicate: false });
    expect(res.headers.location).toBe(`/v1/offboardings/${body.id}`);
    const job = await t.ctx.retire.getJob(body.id);
    expect(job?.data).toMatchObject({
      user: 'carol@contoso.com',
      reason: 'left',
      correlationId: 'HR-1',
      requestedBy: KEY_NAMES.producer,
      source: 'api',
      dryRun: false,
    });
    const again = await post('/v1/offboardings', { user: 'carol@contoso.com' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: body.id, duplicate: true, state: 'waiting' });
    const history = await userHistory(t.ctx, 'carol@contoso.com');
    expect(history.map((h) => [h.type, h.actor])).toEqual([
      ['requested', KEY_NAMES.producer],
      ['duplicate', KEY_NAMES.producer],
    ]);
  });

  it('delays a future effectiveAt, keeps dryRun, and correlates by request id by default', async () => {
    const at = new Date(Date.now() + 86_400_000).toISOString().replace('Z', '+00:00');
    const res = await post(
      '/v1/offboardings',
      { user: 'dave@contoso.com', effectiveAt: at, dryRun: true },
      KEYS.producer,
      {
        'x-request-id': 'req-dave-1',
      },
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ state: 'delayed' });
    const job = await t.ctx.retire.getJob(res.json().id);
    expect(await job?.getState()).toBe('delayed');
    expect(job?.data).toMatchObject({ dryRun: true, correlationId: 'req-dave-1' });
    expect(Date.parse(job?.data.effectiveAt ?? '')).toBe(Date.parse(at));
  });

  it('refuses a malformed user with the reason and stores nothing', async () => {
    const before = await t.ctx.retire.count();
    const res = await post('/v1/offboardings', { user: 'not a user' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_request', details: { field: 'user' } });
    const unknown = await post('/v1/offboardings', { user: 'eve@contoso.com', role: 'admin' });
    expect(unknown.json().error.message).toBe('unknown field "role"');
    expect(await t.ctx.retire.count()).toBe(before);
  });
});

describe('POST /v1/offboardings/batch', () => {
  it('accepts 10,000 users over HTTP, all present in Redis; measures the intake rate', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({
      user: `bulk${i}@contoso.com`,
      reason: 'restructuring',
    }));
    const url = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const started = performance.now();
    const http = await fetch(`${url}/v1/offboardings/batch`, {
      method: 'POST',
      headers: { ...bearer(KEYS.producer), 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
    });
    const body = (await http.json()) as {
      held: boolean;
      summary: Record<string, number>;
      results: { id: string; status: string; index: number }[];
    };
    const ms = performance.now() - started;
    expect(http.status).toBe(202);
    expect(body.held).toBe(false);
    expect(body.summary).toEqual({ accepted: 10_000, duplicate: 0, invalid: 0, held: 0 });
    // Every id answered exists as a job hash in Redis.
    const pipeline = t.ctx.redis.pipeline();
    for (const r of body.results) pipeline.exists(`${t.ctx.prefix}:retire:${r.id}`);
    const exists = (await pipeline.exec())?.map(([, v]) => v);
    expect(exists?.filter((v) => v === 1).length).toBe(10_000);
    expect(new Set(body.results.map((r) => r.id)).size).toBe(10_000);
    expect(body.results.map((r) => r.index)).toEqual(items.map((_, i) => i));
    const job = await t.ctx.retire.getJob(body.results[1234]?.id as string);
    expect(job?.data).toMatchObject({
      user: 'bulk1234@contoso.com',
      requestedBy: KEY_NAMES.producer,
      source: 'batch',
    });
    // The rate is reported, not asserted (the machine is shared).
    console.log(
      `[batch intake] 10000 items in ${ms.toFixed(0)} ms = ${Math.round(10_000 / (ms / 1000))} items/s (POST /v1/offboardings/batch over loopback HTTP, private redis-server)`,
    );

    // The same batch again: every item is a duplicate of the pending job, nothing new stored.
    const again = await post('/v1/offboardings/batch', { items });
    expect(again.statusCode).toBe(200);
    const second = again.json() as typeof body;
    expect(second.summary).toEqual({ accepted: 0, duplicate: 10_000, invalid: 0, held: 0 });
    expect(second.results[42]?.id).toBe(body.results[42]?.id);
  }, 120_000);

  it('marks duplicates inside one batch and refuses invalid items without blocking valid ones', async () => {
    const res = await post('/v1/offboardings/batch', {
      items: [
        { user: 'frank@contoso.com' },
        { user: 'FRANK@contoso.com' },
        { user: 'x\u202e@contoso.com' },
        { user: 'grace@contoso.com', extra: 1 },
        'heidi@contoso.com',
        { user: 'ivan@contoso.com', effectiveAt: '2026-12-01' },
        { user: 'judy@contoso.com', dryRun: true },
      ],
    });
    expect(res.statusCode).toBe(202);
    const { results, summary } = res.json() as {
      results: Record<string, unknown>[];
      summary: Record<string, number>;
    };
    expect(summary).toEqual({ accepted: 2, duplicate: 1, invalid: 4, held: 0 });
    expect(results.map((r) => r.status)).toEqual([
      'accepted',
      'duplicate',
      'invalid',
      'invalid',
      'invalid',
      'invalid',
      'accepted',
    ]);
    expect(results[1]?.id).toBe(results[0]?.id);
    expect(results[2]?.error).toBe('user contains characters that are not allowed');
    expect(results[3]?.error).toBe('unknown field "extra"');
    expect(String(results[5]?.error)).toContain('effectiveAt');
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const judy = await t.ctx.retire.getJob(String(results[6]?.id));
    expect(judy?.data.dryRun).toBe(true);
  });

  it('refuses a batch with no valid item (400) and one over 10,000 items, storing nothing', async () => {
    const before = await t.ctx.retire.count();
    const none = await post('/v1/offboardings/batch', { items: [{ user: 1 }, { nope: true }] });
    expect(none.statusCode).toBe(400);
    expect(none.json().error.details.summary).toMatchObject({ invalid: 2 });
    const big = await post('/v1/offboardings/batch', {
      items: Array.from({ length: 11_000 }, (_, i) => ({ user: `big${i}@contoso.com` })),
    });
    expect(big.statusCode).toBe(400);
    expect(big.json().error.code).toBe('invalid_request');
    expect(await t.ctx.retire.count()).toBe(before);
  });
});

describe('mass-change guard through the API', () => {
  let g: TestApi;
  beforeAll(async () => {
    g = await testApp({ GUARD_THRESHOLD: '5', GUARD_TWO_PERSON: 'true' });
  });
  afterAll(async () => g.close());

  it('holds a batch over the threshold (202, nothing enqueued) until an operator approves it', async () => {
    const items = Array.from({ length: 8 }, (_, i) => ({ user: `held${i}@contoso.com` }));
    items.push({ user: 'bad user' });
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/offboardings/batch',
      payload: { items },
      headers: bearer(KEYS.producer),
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({
      held: true,
      batch: { state: 'held', count: 8, submittedBy: KEY_NAMES.producer },
    });
    expect(body.invalid).toHaveLength(1);
    expect(body.invalid[0].index).toBe(8);
    expect(await g.ctx.retire.count()).toBe(0);

    const list = await g.app.inject({ url: '/v1/batches?state=held', headers: bearer(KEYS.viewer) });
    expect(list.json().items.map((b: { id: string }) => b.id)).toContain(body.batch.id);
    const members = await g.app.inject({
      url: `/v1/batches/${body.batch.id}/items?limit=3`,
      headers: bearer(KEYS.viewer),
    });
    expect(members.json().items.map((i: { request: { user: string } }) => i.request.user)).toEqual([
      'held0@contoso.com',
      'held1@contoso.com',
      'held2@contoso.com',
    ]);

    const approve = await g.app.inject({
      method: 'POST',
      url: `/v1/batches/${body.batch.id}/approve`,
      headers: { ...bearer(KEYS.operator), 'if-match': '"1"' },
    });
    expect(approve.statusCode).toBe(200);
    expect(approve.json().batch).toMatchObject({ state: 'approved', decidedBy: KEY_NAMES.operator });
    expect(await g.ctx.retire.count()).toBe(8);
    const again = await g.app.inject({
      method: 'POST',
      url: `/v1/batches/${body.batch.id}/approve`,
      headers: { ...bearer(KEYS.operator2), 'if-match': '"1"' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('batch_state');
    const audit = await readAudit(g.ctx, { count: 50 });
    expect(audit.find((a) => a.type === 'approved')?.actor).toBe(KEY_NAMES.operator);
  });

  it('rejects a held batch (audited), and enforces the two-person rule by key name', async () => {
    const items = Array.from({ length: 6 }, (_, i) => ({ user: `rej${i}@contoso.com` }));
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/offboardings/batch',
      payload: { items },
      headers: bearer(KEYS.producer),
    });
    const id = res.json().batch.id as string;
    const reject = await g.app.inject({
      method: 'POST',
      url: `/v1/batches/${id}/reject`,
      payload: { reason: 'wrong list' },
      headers: { ...bearer(KEYS.operator2), 'if-match': '"1"' },
    });
    expect(reject.statusCode).toBe(200);
    expect(reject.json().batch).toMatchObject({
      state: 'rejected',
      decidedBy: KEY_NAMES.operator2,
      reason: 'wrong list',
    });

    // A batch submitted under an operator's name cannot be approved with that operator's key.
    const own = await submitBulk(
      g.ctx,
      Array.from({ length: 6 }, (_, i) => ({ user: `own${i}@contoso.com` })),
      { requestedBy: KEY_NAMES.operator, source: 'import' },
    );
    expect(own.held).toBe(true);
    const ownId = own.held ? own.batch.id : '';
    const self = await g.app.inject({
      method: 'POST',
      url: `/v1/batches/${ownId}/approve`,
      headers: { ...bearer(KEYS.operator), 'if-match': '"1"' },
    });
    expect(self.statusCode).toBe(403);
    expect(self.json().error.code).toBe('two_person_rule');
    const other = await g.app.inject({
      method: 'POST',
      url: `/v1/batches/${ownId}/approve`,
      headers: { ...bearer(KEYS.operator2), 'if-match': '"1"' },
    });
    expect(other.statusCode).toBe(200);
    expect(await g.ctx.redis.exists(redisKeys.batch(g.ctx.prefix, ownId))).toBe(1);
  });
});
