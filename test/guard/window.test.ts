// The guard's rolling window: splitting a layoff into small submissions does not get past
// GUARD_THRESHOLD. Per key and in total, through the API (single and batch), the CSV import and the
// CLI library path; users released by an approval do not count.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitBulk } from '../../src/front-door/front-door.js';
import { approveBatch } from '../../src/guard/batches.js';
import { admitWithoutApproval } from '../../src/guard/window.js';
import { importCsv } from '../../src/import/csv.js';
import { readAudit } from '../../src/records/audit.js';
import { bearer, KEYS, type TestApi, testApp } from '../api/helpers.js';

let t: TestApi;
let n = 0;
const fresh = (k: number) => Array.from({ length: k }, () => `win-${n++}@contoso.com`);

beforeAll(async () => {
  t = await testApp({ GUARD_THRESHOLD: '3', GUARD_WINDOW: '1h' });
});
afterAll(async () => t.close());

async function reset() {
  const ks = await t.ctx.redis.keys(`${t.ctx.prefix}:offboard:guard-window:*`);
  if (ks.length) await t.ctx.redis.del(...ks);
}

const batch = (users: string[]) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/offboardings/batch',
    headers: bearer(KEYS.producer),
    payload: { items: users.map((user) => ({ user })) },
  });
const single = (user: string) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/offboardings',
    headers: bearer(KEYS.producer),
    payload: { user },
  });

describe('GUARD_WINDOW', () => {
  it('holds the second of two batches that together exceed the threshold (the split-batch attack)', async () => {
    await reset();
    const first = await batch(fresh(3));
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ held: false, summary: { accepted: 3 } });
    const before = await t.ctx.retire.count();
    const second = await batch(fresh(3));
    expect(second.statusCode).toBe(202);
    expect(second.json()).toMatchObject({ held: true, summary: { accepted: 0, held: 3 } });
    expect(await t.ctx.retire.count()).toBe(before);
    const [held] = await readAudit(t.ctx, { count: 1 });
    expect(held).toMatchObject({ type: 'held', actor: 'hr-system', details: { heldBecause: 'window' } });
  });

  it('holds single requests past the window, and answers with the batch to approve', async () => {
    await reset();
    const accepted = fresh(3);
    for (const user of accepted) expect((await single(user)).statusCode).toBe(202);
    const before = await t.ctx.retire.count();
    const [user] = fresh(1);
    const res = await single(user as string);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ state: 'held', user, heldBecause: 'window' });
    expect(res.headers.location).toBe(`/v1/batches/${res.json().batchId}`);
    expect(await t.ctx.retire.count()).toBe(before);
    // Repeating an already accepted user is not a new user: it does not count, nor is it held.
    const again = await single(accepted[0] as string);
    expect(again.json()).toMatchObject({ duplicate: true, state: 'waiting' });
  });

  it('caps the total across keys, and an approval does not count against the window', async () => {
    await reset();
    const a = await submitBulk(
      t.ctx,
      fresh(2).map((user) => ({ user })),
      { requestedBy: 'feed-a', source: 'cli' },
    );
    expect(a.held).toBe(false);
    const b = await submitBulk(
      t.ctx,
      fresh(2).map((user) => ({ user })),
      { requestedBy: 'feed-b', source: 'cli' },
    );
    expect(b).toMatchObject({ held: true, cause: 'window' });
    if (!b.held) throw new Error('unreachable');
    const approved = await approveBatch(t.ctx, b.batch.id, 'ops-alice', { version: 1 });
    expect(approved.results.filter((r) => r.status === 'accepted')).toHaveLength(2);
    // Still 2 of 3 used in total: one more user from anyone fits, two do not.
    expect((await admitWithoutApproval(t.ctx, 'feed-c', fresh(1), { reserve: false })).admitted).toBe(true);
    expect((await admitWithoutApproval(t.ctx, 'feed-c', fresh(2), { reserve: false })).admitted).toBe(false);
  });

  it('holds a small CSV import that would pass the per-file threshold', async () => {
    await reset();
    await submitBulk(
      t.ctx,
      fresh(3).map((user) => ({ user })),
      { requestedBy: 'alice', source: 'cli' },
    );
    const csv = `user\n${fresh(2).join('\n')}\n`;
    const plan = await importCsv(t.ctx, Readable.from([csv]), {
      meta: { requestedBy: 'alice', source: 'import' },
      plan: true,
    });
    expect(plan.wouldHold).toBe(true);
    const res = await importCsv(t.ctx, Readable.from([csv]), {
      meta: { requestedBy: 'alice', source: 'import' },
    });
    expect(res.held?.count).toBe(2);
    expect(res.accepted).toBe(0);
    expect(res.holdReason).toContain('GUARD_WINDOW');
  });

  it('compares actor names as the two-person rule does (case does not make a new key)', async () => {
    await reset();
    await submitBulk(
      t.ctx,
      fresh(3).map((user) => ({ user })),
      { requestedBy: 'Alice', source: 'cli' },
    );
    expect((await admitWithoutApproval(t.ctx, ' alice ', fresh(1), { reserve: false })).admitted).toBe(false);
  });

  it('forgets users accepted longer ago than the window', async () => {
    await reset();
    const long = Date.now() - 2 * 3_600_000;
    expect((await admitWithoutApproval(t.ctx, 'bob', fresh(3), { now: long })).admitted).toBe(true);
    expect((await admitWithoutApproval(t.ctx, 'bob', fresh(3))).admitted).toBe(true);
  });

  it('gathers single requests past the window into one open batch per actor, until it is decided', async () => {
    await reset();
    for (const user of fresh(3)) expect((await single(user)).json().state).toBe('waiting');
    const late = fresh(6);
    const answers = [];
    for (const user of late.slice(0, 5)) answers.push((await single(user)).json());
    const ids = new Set(answers.map((a) => a.batchId));
    expect(ids.size).toBe(1);
    expect(answers.every((a) => a.state === 'held')).toBe(true);
    // The same user again is not a second item.
    await single(late[0] as string);
    const [batchId] = [...ids] as [string];
    const batch = await t.app.inject({ url: `/v1/batches/${batchId}`, headers: bearer(KEYS.viewer) });
    expect(batch.json()).toMatchObject({ state: 'held', count: 5, version: 5, submittedBy: 'hr-system' });
    expect(batch.headers.etag).toBe('"5"');
    const before = await t.ctx.retire.count();
    const ok = await t.app.inject({
      method: 'POST',
      url: `/v1/batches/${batchId}/approve`,
      headers: { ...bearer(KEYS.operator), 'if-match': batch.headers.etag as string },
    });
    expect(ok.statusCode).toBe(200);
    expect(await t.ctx.retire.count()).toBe(before + 5);
    // Decided: the next held single opens a new batch.
    const next = (await single(late[5] as string)).json();
    expect(next.state).toBe('held');
    expect(next.batchId).not.toBe(batchId);
  });
});
