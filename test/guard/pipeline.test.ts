// One bulk pipeline behind every surface: the batch API, the CSV import (`offboard import`) and the
// CLI's multi-user `offboard enqueue` validate, fold repeats, ask the guard and hold or enqueue the
// same way. The same leavers give the same held batch and the same audit entry whichever way they
// come in, the three share one GUARD_WINDOW, and their plans agree.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listBatchItems } from '../../src/guard/batches.js';
import { planBulk, stageAndDecide } from '../../src/guard/pipeline.js';
import type { BatchSummary } from '../../src/guard/types.js';
import type { AuditRecord } from '../../src/interfaces.js';
import { readAudit } from '../../src/records/audit.js';
import { bearer, KEY_NAMES, KEYS, type TestApi, testApp } from '../api/helpers.js';
import { json, runCli } from '../cli/run-cli.js';

let t: TestApi;
let dir: string;
let round = 0;
/** 60 distinct users over GUARD_THRESHOLD=50, with two repeats (one in other case) at the end. */
let leavers: string[];

beforeAll(async () => {
  t = await testApp({ GUARD_THRESHOLD: '50', GUARD_WINDOW: '1h' });
  dir = mkdtempSync(join(tmpdir(), 'offboard-pipeline-'));
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  // Each test starts with an empty window and no held batches, and its own users.
  const stale = await t.ctx.redis.keys(`${t.ctx.prefix}:*`);
  if (stale.length) await t.ctx.redis.del(...stale);
  round++;
  const distinct = Array.from({ length: 60 }, (_, i) => `p${round}-${i}@contoso.com`);
  leavers = [...distinct, distinct[3] as string, (distinct[7] as string).toUpperCase()];
});

const cliEnv = () => ({ REDIS_URL: t.redis.url, QUEUE_PREFIX: t.ctx.prefix, GUARD_THRESHOLD: '50' });
const cli = (...args: string[]) => runCli(args, cliEnv(), { timeoutMs: 60_000 });

function csvFile(users: string[]): string {
  const path = join(dir, `leavers-${round}-${users.length}-${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(path, `user\n${users.join('\n')}\n`);
  return path;
}

async function viaApi(users: string[]) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/offboardings/batch',
    headers: bearer(KEYS.producer),
    payload: { items: users.map((user) => ({ user })) },
  });
}

async function heldAudits(): Promise<AuditRecord[]> {
  return (await readAudit(t.ctx, { count: 1000 })).filter((e) => e.type === 'held');
}

/** An audit entry without what differs by nature between two submissions (ids and clocks). */
function shape(e: AuditRecord) {
  const { batchId: _b, expiresAt: _e, source: _s, ...details } = e.details as Record<string, unknown>;
  return { type: e.type, actor: e.actor, details };
}

describe('one bulk pipeline behind the API batch, the CSV import and the CLI enqueue', () => {
  it('holds the same 60 users as one batch with the same counts, items and audit entry on every surface', async () => {
    const api = await viaApi(leavers);
    expect(api.statusCode).toBe(202);
    const imp = await cli('import', csvFile(leavers), '--as', KEY_NAMES.producer, '--json');
    expect(imp.code, imp.stderr).toBe(0);
    const enq = await cli('enqueue', ...leavers, '--as', KEY_NAMES.producer, '--json');
    expect(enq.code, enq.stderr).toBe(0);

    const batches = [
      { source: 'batch', batch: api.json().batch },
      { source: 'import', batch: json<{ held: BatchSummary }>(imp).held },
      { source: 'cli', batch: json<{ batch: BatchSummary }>(enq).batch },
    ];
    for (const { source, batch } of batches) {
      expect(batch).toMatchObject({
        state: 'held',
        source,
        submittedBy: KEY_NAMES.producer,
        count: 60,
        duplicate: 2,
        invalid: 0,
        dryRun: false,
        sample: leavers.slice(0, 10),
      });
      const items = await listBatchItems(t.ctx, batch.id, { limit: 1000 });
      expect(items.map((i) => i.r.user)).toEqual(leavers.slice(0, 60));
    }
    expect(new Set(batches.map((b) => b.batch.id)).size).toBe(3);
    // Nothing was enqueued and nothing counted against the window.
    expect(await t.ctx.retire.count()).toBe(0);
    expect(await t.ctx.redis.keys(`${t.ctx.prefix}:offboard:guard-window:*`)).toEqual([]);

    const audits = await heldAudits();
    expect(audits).toHaveLength(3);
    expect(audits.map((a) => (a.details as { source: string }).source).sort()).toEqual([
      'batch',
      'cli',
      'import',
    ]);
    const shapes = audits.map(shape);
    expect(shapes[0]).toEqual({
      type: 'held',
      actor: KEY_NAMES.producer,
      details: { count: 60, invalid: 0, duplicate: 2, threshold: 50, heldBecause: 'threshold' },
    });
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
  }, 180_000);

  it('shares one GUARD_WINDOW: 20 users through each surface, the third submission is held', async () => {
    const [a, b, c] = [0, 20, 40].map((from) => leavers.slice(from, from + 20));
    const api = await viaApi(a as string[]);
    expect(api.json()).toMatchObject({ held: false, summary: { accepted: 20 } });
    const imp = await cli(
      'import',
      csvFile(b as string[]),
      '--as',
      KEY_NAMES.producer.toUpperCase(),
      '--json',
    );
    expect(imp.code, imp.stderr).toBe(0);
    expect(json(imp)).toMatchObject({ accepted: 20, duplicate: 0, invalid: 0 });
    // 40 accepted by this actor within the window: 20 more would make 60 > 50.
    const plan = await cli('enqueue', ...(c as string[]), '--as', KEY_NAMES.producer, '--dry-run', '--json');
    expect(json(plan)).toMatchObject({ dryRun: true, wouldHold: true });
    const enq = await cli('enqueue', ...(c as string[]), '--as', KEY_NAMES.producer, '--json');
    expect(enq.code, enq.stderr).toBe(0);
    expect(json(enq)).toMatchObject({
      held: true,
      cause: 'window',
      batch: { count: 20, source: 'cli' },
    });
    expect(await t.ctx.retire.count()).toBe(40);
    const [held] = await heldAudits();
    expect(held?.details).toMatchObject({
      heldBecause: 'window',
      acceptedInWindow: { actor: 60, total: 60 },
    });
  }, 180_000);

  it('plans the same way on both CLI surfaces and in the library: nothing enqueued, held or reserved', async () => {
    const imp = await cli('import', csvFile(leavers), '--dry-run', '--json');
    expect(imp.code, imp.stderr).toBe(0);
    const enq = await cli('enqueue', ...leavers, '--dry-run', '--json');
    expect(enq.code, enq.stderr).toBe(0);
    const importPlan = json(imp) as { rows: { status: string; user: string }[]; totals: unknown };
    const enqueuePlan = json(enq) as { rows: { status: string; user: string }[]; wouldHold: boolean };
    expect(importPlan.totals).toMatchObject({ accepted: 60, duplicate: 2, invalid: 0, wouldHold: true });
    expect(enqueuePlan.wouldHold).toBe(true);
    const statuses = (rows: { status: string; user: string }[]) => rows.map((r) => `${r.status} ${r.user}`);
    expect(statuses(importPlan.rows)).toEqual(statuses(enqueuePlan.rows));
    expect(enqueuePlan.rows.filter((r) => r.status === 'duplicate').map((r) => r.user)).toEqual([
      leavers[3],
      (leavers[7] as string).toLowerCase(),
    ]);

    // The library's memory and Redis stagings give the same plan for an array and a stream.
    const items = leavers.map((user, n) => ({ n, item: { user } }));
    async function* stream() {
      yield* items;
    }
    const meta = { requestedBy: 'planner', source: 'import' as const };
    const fromArray = await planBulk(t.ctx, items, { meta, chunkSize: 7 });
    const fromStream = await planBulk(t.ctx, stream(), { meta, chunkSize: 7 });
    expect(fromArray).toMatchObject({ new: 60, duplicate: 2, invalid: 0, wouldHold: true });
    expect(fromStream).toEqual(fromArray);

    expect(await t.ctx.retire.count()).toBe(0);
    expect(await heldAudits()).toEqual([]);
    expect(await t.ctx.redis.keys(`${t.ctx.prefix}:offboard:guard-window:*`)).toEqual([]);
    expect(await t.ctx.redis.keys(`${t.ctx.prefix}:offboard:batch*`)).toEqual([]);
  }, 180_000);

  it('enqueues through either staging with the same results: a repeat names its first occurrence’s job', async () => {
    const small = [...leavers.slice(0, 5), leavers[2] as string, 'not a user'];
    const run = async (store: 'memory' | 'redis', tag: string) => {
      const items = small.map((u, n) => ({ n, item: { user: u.replace('@', `.${tag}@`) } }));
      const events: unknown[] = [];
      const results: { index: number; status: string }[] = [];
      const out = await stageAndDecide(t.ctx, items, {
        meta: { requestedBy: `lib-${tag}`, source: 'batch' },
        store,
        chunkSize: 3,
        onItem: (e) => events.push({ n: e.n, status: e.status }),
        onResults: (r) => {
          results.push(...r);
        },
      });
      return { out, events, results: results.map((r) => [r.index, r.status]) };
    };
    const memory = await run('memory', 'm');
    const redis = await run('redis', 'r');
    expect(memory.out).toMatchObject({ held: false, staged: 5, duplicate: 1, invalid: 1 });
    expect(redis.out).toMatchObject({ held: false, staged: 5, duplicate: 1, invalid: 1 });
    expect(memory.events).toEqual([
      { n: 5, status: 'duplicate' },
      { n: 6, status: 'invalid' },
    ]);
    expect(redis.events).toEqual(memory.events);
    expect(memory.results).toEqual([0, 1, 2, 3, 4].map((n) => [n, 'accepted']));
    expect(redis.results).toEqual(memory.results);
    expect(await t.ctx.retire.count()).toBe(10);
    // Neither left staging keys behind.
    expect(await t.ctx.redis.keys(`${t.ctx.prefix}:offboard:batch*`)).toEqual([]);
  });
});
