// Issue 19 items 2, 9 and 10, against a real Redis, the API on loopback, an in-process worker and
// the Graph simulator: no more than GUARD_THRESHOLD users are retired inside any GUARD_WINDOW
// without a person approving exactly those users.
// - item 2: rounds of single requests a window apart, all for the same moment, retire at most the
//   threshold (the rest held at admission); jobs whose moments were moved together after admission
//   are held by the worker when they become due (audited, a held batch), then approved by version;
// - item 9: repeating a held request writes one audit entry, not one per repeat;
// - item 10: dry runs do not use up the real window.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { getBatch, listBatches } from '../../src/guard/batches.js';
import { importCsv } from '../../src/import/csv.js';
import { rescheduleJob } from '../../src/intake/reschedule.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { apiConfig, KEYS, liveApi, pollUntil } from '../api/helpers.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import { type InProcessWorker, startTestWorker, workerConfig } from '../helpers/worker.js';

const GUARD = { GUARD_THRESHOLD: '3', GUARD_WINDOW: '2s' };
let redis: TestRedis;
let sim: TestSimulator;
const apis: RunningApi[] = [];
const workers: InProcessWorker[] = [];
const contexts: QueueContext[] = [];
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(apis.map((a) => a.close()));
  await Promise.all(contexts.map((c) => closeQueueContext(c)));
  await sim?.close();
  await redis?.stop();
});

/** A private prefix with an API, a context and (optionally) a worker on it. */
async function setup(env: Record<string, string> = {}, worker = true) {
  const prefix = `${redis.prefix}gp${++n}`;
  const all = { QUEUE_PREFIX: prefix, ...GUARD, ...env };
  const api = await liveApi(redis, all);
  apis.push(api);
  const ctx = createQueueContext(apiConfig(redis, all));
  contexts.push(ctx);
  if (worker) workers.push(await startTestWorker(workerConfig(redis, sim, prefix, all)));
  const call = async (method: string, path: string, key: string, body?: unknown, extra = {}) => {
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
  };
  const offboard = (body: Record<string, unknown>) => call('POST', '/v1/offboardings', KEYS.producer, body);
  return { prefix, api, ctx, call, offboard };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const retiredOf = (users: string[]) => {
  const ok = sim.stats().graph.successByUser;
  return users.filter((u) => (ok[u] ?? 0) > 0);
};

describe('item 2: the guard counts users by when they are retired', () => {
  it('three rounds of three single requests a window apart, same moment ahead: at most 3 retired, the rest held', async () => {
    const t = await setup();
    const moment = new Date(Date.now() + 8_000).toISOString();
    const users: string[] = [];
    const answers: { state: string; heldBecause?: string; batchId?: string }[] = [];
    for (let round = 0; round < 3; round++) {
      if (round > 0) await sleep(2_100);
      for (let i = 0; i < 3; i++) {
        const user = `gp-r${round}-${i}@contoso.com`;
        users.push(user);
        const res = await t.offboard({ user, effectiveAt: moment });
        expect(res.status).toBe(202);
        answers.push(res.json);
      }
    }
    expect(answers.slice(0, 3).every((a) => a.state === 'delayed')).toBe(true);
    expect(answers.slice(3).every((a) => a.state === 'held' && a.heldBecause === 'due')).toBe(true);
    // After the moment: three retired, nothing else reached Graph.
    await pollUntil(
      async () => retiredOf(users).length,
      (k) => k >= 3,
      30_000,
    );
    await sleep(1_500);
    expect(retiredOf(users).sort()).toEqual(users.slice(0, 3).sort());
    const [held] = await listBatches(t.ctx, { state: 'held' });
    expect(held).toMatchObject({ count: 6, submittedBy: 'hr-system' });
    const audit = await readAudit(t.ctx, { count: 200 });
    expect(audit.filter((e) => e.type === 'held' && e.details?.heldBecause === 'due')).toHaveLength(6);
  }, 60_000);

  it('jobs admitted for moments far apart and then moved onto one moment: the worker holds all past 3 when they become due', async () => {
    const t = await setup();
    const users = Array.from({ length: 6 }, (_, i) => `gp-mv-${i}@contoso.com`);
    const ids: string[] = [];
    for (const [i, user] of users.entries()) {
      if (i === 3) await sleep(2_100);
      const res = await t.offboard({
        user,
        effectiveAt: new Date(Date.now() + 60_000 * (i + 1)).toISOString(),
      });
      expect(res.json.state).toBe('delayed');
      ids.push(res.json.id);
    }
    // The reschedule path (console, CLI, Entra reconcile): all six onto one moment.
    const moment = new Date(Date.now() + 2_500);
    for (const id of ids) await rescheduleJob(t.ctx, id, moment, 'ops-alice');
    await pollUntil(
      async () => (await t.ctx.retire.getFailedCount()) + retiredOf(users).length,
      (k) => k >= 6,
      30_000,
    );
    await sleep(1_000);
    const first = retiredOf(users);
    expect(first).toHaveLength(3);
    const failed = await t.ctx.retire.getFailed();
    expect(failed).toHaveLength(3);
    for (const job of failed) expect(job.failedReason).toMatch(/held by the mass-change guard/);
    // Not dead letters: held, audited, in one batch an operator can review.
    expect(await t.ctx.deadLetter.count()).toBe(0);
    // (Jobs held at the same instant may open a batch each before one becomes the open one.)
    const batches = await listBatches(t.ctx, { state: 'held' });
    expect(batches.reduce((k, b) => k + b.count, 0)).toBe(3);
    const heldAudit = (await readAudit(t.ctx, { count: 200 })).filter((e) => e.type === 'held');
    expect(heldAudit).toHaveLength(3);
    expect(heldAudit.every((e) => e.details?.heldBecause === 'due' && e.jobId)).toBe(true);

    // An operator approves exactly what was shown: those three are retired as approved (not re-held).
    for (const b of batches) {
      const seen = await t.call('GET', `/v1/batches/${b.id}`, KEYS.viewer);
      const ok = await t.call('POST', `/v1/batches/${b.id}/approve`, KEYS.operator, undefined, {
        'if-match': seen.headers.get('etag') as string,
      });
      expect(ok.status).toBe(200);
      expect((await getBatch(t.ctx, b.id)).result).toMatchObject({ accepted: b.count });
    }
    await pollUntil(
      async () => retiredOf(users).length,
      (k) => k === 6,
      30_000,
    );
  }, 90_000);
});

describe('item 2 on the bulk surfaces', () => {
  it('a CSV import and a batch API call dated for the moment three users already have are held (heldBecause due), also in a plan', async () => {
    const t = await setup({}, false);
    const moment = new Date(Date.now() + 3_600_000).toISOString();
    const first = await t.call('POST', '/v1/offboardings/batch', KEYS.producer, {
      items: [0, 1, 2].map((i) => ({ user: `gp-b${i}@contoso.com`, effectiveAt: moment })),
    });
    expect(first.json).toMatchObject({ held: false, summary: { accepted: 3 } });
    await sleep(2_100);
    const csv = `user,effectiveAt\ngp-csv@contoso.com,${moment}\n`;
    const meta = { requestedBy: 'alice', source: 'import' as const };
    const plan = await importCsv(t.ctx, Readable.from([csv]), { meta, plan: true });
    expect(plan.wouldHold).toBe(true);
    const res = await importCsv(t.ctx, Readable.from([csv]), { meta });
    expect(res.accepted).toBe(0);
    expect(res.held?.count).toBe(1);
    expect(res.holdReason).toMatch(/would be retired without approval within GUARD_WINDOW/);
    // Another moment, a window away, is fine.
    const later = new Date(Date.parse(moment) + 2_100).toISOString();
    const other = await t.call('POST', '/v1/offboardings/batch', KEYS.producer, {
      items: [{ user: 'gp-b3@contoso.com', effectiveAt: later }],
    });
    expect(other.json).toMatchObject({ held: false, summary: { accepted: 1 } });
  }, 60_000);
});

describe('item 9: repeating a held request is audited once', () => {
  it('60 repeats of a held single request leave one held entry, one item, one version', async () => {
    const t = await setup({ GUARD_WINDOW: '1h' }, false);
    for (let i = 0; i < 3; i++)
      expect((await t.offboard({ user: `gp-ok-${i}@contoso.com` })).status).toBe(202);
    const first = await t.offboard({ user: 'gp-repeat@contoso.com' });
    expect(first.json.state).toBe('held');
    for (let i = 0; i < 60; i++) {
      const r = await t.offboard({ user: 'gp-repeat@contoso.com' });
      expect(r.json).toMatchObject({ state: 'held', batchId: first.json.batchId });
    }
    const entries = (await readAudit(t.ctx, { count: 500 })).filter((e) => e.type === 'held');
    expect(entries).toHaveLength(1);
    expect(await getBatch(t.ctx, first.json.batchId)).toMatchObject({ count: 1, version: 1 });
  }, 60_000);
});

describe('item 10: dry runs are counted apart', () => {
  it('three dry runs then a real request at threshold 3: the real one is accepted, not held', async () => {
    const t = await setup({ GUARD_WINDOW: '1h' }, false);
    for (let i = 0; i < 3; i++) {
      const r = await t.offboard({ user: `gp-dry-${i}@contoso.com`, dryRun: true });
      expect(r.json.state).not.toBe('held');
    }
    const real = await t.offboard({ user: 'gp-real@contoso.com' });
    expect(real.status).toBe(202);
    expect(real.json.state).toBe('waiting');
    // Dry runs still have a window of their own: the fourth one is held.
    expect((await t.offboard({ user: 'gp-dry-3@contoso.com', dryRun: true })).json.state).toBe('held');
    expect(await t.ctx.retire.getDeduplicationJobId('gp-real@contoso.com')).toBeTruthy();
  }, 60_000);
});
