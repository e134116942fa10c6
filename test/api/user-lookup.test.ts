// GET /v1/offboardings?user=: the jobs of one leaver, newest first, found like `offboard status
// --user` (pending job through deduplication, the rest through the user's history). A producer key
// sees only the requests it made, here and on GET /v1/offboardings/{id}. DELETE takes its note as
// a query parameter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/intake/enqueue.js';
import type { RetireJobData } from '../../src/interfaces.js';
import { readAudit } from '../../src/records/audit.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';
import { bearer, KEY_NAMES, KEYS, type TestApi, testApp } from './helpers.js';

let t: TestApi;
let first: string;
let second: string;

beforeAll(async () => {
  t = await testApp();
  // 1. The HR system (producer key) asks for alice; the job ends in the dead-letter queue.
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/offboardings',
    headers: bearer(KEYS.producer),
    payload: { user: 'Alice@Contoso.com' },
  });
  expect(res.statusCode).toBe(202);
  first = res.json().id;
  const job = await t.ctx.retire.getJob(first);
  await moveToDeadLetter(
    t.ctx,
    { id: first, data: job?.data as RetireJobData },
    { reason: 'not_found', lastStatus: 404, attempts: 1, throttledWaits: 0 },
  );
  await job?.remove();
  await new Promise((r) => setTimeout(r, 5));
  // 2. Later another system asks again for the same leaver.
  second = (
    await enqueue(t.ctx, { user: 'alice@contoso.com' }, { requestedBy: 'other-system', source: 'cli' })
  ).id;
  // Someone else entirely.
  await enqueue(t.ctx, { user: 'bob@contoso.com' }, { requestedBy: KEY_NAMES.producer, source: 'api' });
});
afterAll(async () => t.close());

const get = (url: string, key: string) => t.app.inject({ url, headers: bearer(key) });

describe('GET /v1/offboardings?user=', () => {
  it("lists every job of the leaver, newest first, with state, record or dead letter, and each job's history", async () => {
    const res = await get('/v1/offboardings?user=ALICE%40contoso.com', KEYS.viewer);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.user).toBe('alice@contoso.com');
    expect(body.items.map((i: { id: string }) => i.id)).toEqual([second, first]);
    expect(body.items[0]).toMatchObject({ state: 'waiting', user: 'alice@contoso.com' });
    expect(body.items[1]).toMatchObject({ state: 'dead-lettered', deadLetter: { reason: 'not_found' } });
    expect(body.items[1].history.map((h: { type: string }) => h.type)).toEqual([
      'requested',
      'dead-lettered',
    ]);
    expect(body.items[0].history.every((h: { jobId?: string }) => h.jobId === second)).toBe(true);

    const newest = await get('/v1/offboardings?user=alice@contoso.com&limit=1', KEYS.operator);
    expect(newest.json().items.map((i: { id: string }) => i.id)).toEqual([second]);
  });

  it('shows a producer key only the requests it made, here and by id', async () => {
    const mine = await get('/v1/offboardings?user=alice@contoso.com', KEYS.producer);
    expect(mine.statusCode).toBe(200);
    expect(mine.json().items.map((i: { id: string }) => i.id)).toEqual([first]);
    expect((await get(`/v1/offboardings/${first}`, KEYS.producer)).statusCode).toBe(200);
    const other = await get(`/v1/offboardings/${second}`, KEYS.producer);
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe('not_found');
    expect((await get(`/v1/offboardings/${second}`, KEYS.viewer)).statusCode).toBe(200);
  });

  it('answers an unknown leaver with an empty list and refuses malformed users', async () => {
    const none = await get('/v1/offboardings?user=nobody@contoso.com', KEYS.viewer);
    expect(none.statusCode).toBe(200);
    expect(none.json()).toEqual({ user: 'nobody@contoso.com', items: [] });
    for (const q of [
      '',
      '?user=',
      '?user=not%20a%20user',
      '?user=a%0a@contoso.com',
      '?user=x@y.com&extra=1',
    ]) {
      const res = await get(`/v1/offboardings${q}`, KEYS.viewer);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.code, q).toMatch(/invalid_request|bad_request|validation/);
    }
    expect((await get('/v1/offboardings?user=alice@contoso.com&limit=0', KEYS.viewer)).statusCode).toBe(400);
  });
});

describe('DELETE with query parameters', () => {
  it('cancels a pending job with ?note= recorded in the audit', async () => {
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/v1/offboardings/${second}?note=${encodeURIComponent('re-hired')}`,
      headers: bearer(KEYS.operator),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: second, state: 'cancelled' });
    const audit = await readAudit(t.ctx, { count: 20 });
    expect(audit.find((a) => a.type === 'cancelled' && a.jobId === second)).toMatchObject({
      actor: KEY_NAMES.operator,
      details: { note: 're-hired' },
    });
    const bad = await t.app.inject({
      method: 'DELETE',
      url: `/v1/dead-letters/dl-${first}?note=${encodeURIComponent('line\nbreak')}`,
      headers: bearer(KEYS.operator),
    });
    expect(bad.statusCode).toBe(400);
    expect(await t.ctx.deadLetter.getJob(`dl-${first}`)).toBeDefined();
  });
});
