// Issue 9, item 11: a reason with a newline could forge rows in `offboard batches show`. Control
// characters are now refused in every free-text field (API, CLI, CSV), and what the CLI prints
// escapes them anyway (data already in Redis, or written there by someone with Redis access).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { escapeText, safe } from '../../src/cli/escape.js';
import { submitBulk } from '../../src/front-door/front-door.js';
import { validateRequest } from '../../src/intake/validate.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { KEYS, liveApi } from '../api/helpers.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { json, runCli } from './run-cli.js';

let redis: TestRedis;
let dir: string;
let api: RunningApi;
let ctx: QueueContext;
let env: Record<string, string>;

const FORGED = 'resigned\n  #99  ceo@contoso.com  approved by security';

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'offboard-sectext-'));
  env = { REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}st`, GUARD_THRESHOLD: '2' };
  ctx = createQueueContext(testConfig(env));
  api = await liveApi(redis, { QUEUE_PREFIX: env.QUEUE_PREFIX as string, GUARD_THRESHOLD: '2' });
});
afterAll(async () => {
  await api?.close();
  await closeQueueContext(ctx);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('free text is refused with control characters at every door', () => {
  it('the API refuses a reason with a newline, tab or escape (single and batch), and stores nothing', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${api.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.producer}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const reason of [FORGED, 'a\tb', 'a\u001b[2Jb', 'a\rb', 'a\u2028b']) {
      const one = await post('/v1/offboardings', { user: 'forge@contoso.com', reason });
      expect(one.status).toBe(400);
    }
    const batch = await post('/v1/offboardings/batch', {
      items: [{ user: 'ok1@contoso.com' }, { user: 'forge2@contoso.com', reason: FORGED }],
    });
    expect(batch.status).toBe(202);
    const body = (await batch.json()) as { results: { status: string; user?: string }[] };
    expect(body.results.map((r) => r.status)).toEqual(['accepted', 'invalid']);
    const pending = await ctx.retire.getJobs(['waiting', 'delayed']);
    expect(pending.map((j) => j.data.user)).toEqual(['ok1@contoso.com']);
    // Reject and pause notes through the API too.
    const pause = await fetch(`${api.url}/v1/queues/retire/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'freeze\nresumed by ops-bob' }),
    });
    expect(pause.status).toBe(400);
    expect(await ctx.retire.isPaused()).toBe(false);
  });

  it('validateRequest (CLI enqueue, CSV rows, feeds) refuses them too', () => {
    for (const reason of [FORGED, 'a\tb', 'x\u0000']) {
      expect(() => validateRequest({ user: 'a@contoso.com', reason })).toThrow(/control characters/);
    }
    expect(validateRequest({ user: 'a@contoso.com', reason: 'left, "happily"' }).reason).toBe(
      'left, "happily"',
    );
  });

  it('the CLI refuses them in --reason, --note and --as (exit 2), and a CSV row with one is invalid', async () => {
    const cases = [
      ['queue', 'pause', '--reason', 'freeze\nresumed'],
      ['batches', 'reject', 'some-batch', '--batch-version', '1', '--reason', 'typo\n#2 forged'],
      ['dlq', 'discard', 'dl-x', '--note', 'gone\u001b[2J'],
      ['queue', 'pause', '--as', 'alice\nbob'],
    ];
    for (const args of cases) {
      const r = await runCli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(await ctx.retire.isPaused()).toBe(false);
    const enq = await runCli(['enqueue', 'cli-forge@contoso.com', '--reason', FORGED], env);
    expect(enq.code).not.toBe(0);
    const file = join(dir, 'forge.csv');
    writeFileSync(file, `user,reason\ncsvok@contoso.com,fine\ncsvforge@contoso.com,"${FORGED}"\n`);
    const imp = await runCli(['import', file, '--json'], env);
    expect(json<{ accepted: number; invalid: number }>(imp)).toMatchObject({ accepted: 1, invalid: 1 });
    const users = (await ctx.retire.getJobs(['waiting', 'delayed'])).map((j) => j.data.user);
    expect(users).not.toContain('cli-forge@contoso.com');
    expect(users).not.toContain('csvforge@contoso.com');
  }, 120_000);
});

describe('what the CLI prints is escaped', () => {
  it('escapeText and safe`` show control characters as escapes and keep the layout', () => {
    expect(escapeText('a\nb\tc\rd\u001b[2J\u0000\u202e')).toBe('a\\nb\\tc\\rd\\x1b[2J\\x00\\u202e');
    expect(safe`row ${'x\ny'} end\n`).toBe('row x\\ny end\n');
  });

  it('a forged reason already in Redis cannot add a row to `batches show`, nor to `batches list`', async () => {
    const held = await submitBulk(
      ctx,
      [{ user: 'h1@contoso.com' }, { user: 'h2@contoso.com' }, { user: 'h3@contoso.com' }],
      { requestedBy: 'hr\nsystem', source: 'batch' },
    );
    if (!held.held) throw new Error('expected a held batch');
    // Someone with Redis access (or data from before the fix) puts a newline into an item.
    const itemsKey = keys.batchItems(ctx.prefix, held.batch.id);
    await ctx.redis.rpush(itemsKey, JSON.stringify({ n: 9, r: { user: 'h4@contoso.com', reason: FORGED } }));
    const show = await runCli(['batches', 'show', held.batch.id], env);
    expect(show.code).toBe(0);
    const lines = show.stdout.split('\n').filter(Boolean);
    // One summary line, one line per item and the line naming the version to decide: nothing more.
    expect(lines).toHaveLength(1 + 4 + 1);
    expect(lines.at(-1)).toMatch(
      /^to decide these \d+ users: offboard batches approve\|reject \S+ --batch-version 1$/,
    );
    expect(lines.some((l) => l.startsWith('  #99'))).toBe(false);
    expect(show.stdout).toContain('resigned\\n  #99  ceo@contoso.com');
    const list = await runCli(['batches', 'list'], env);
    expect(list.stdout).toContain('by hr\\nsystem');
    expect(list.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    // JSON output keeps the real value (JSON escapes it by itself).
    const asJson = json<{ items: { r: { reason?: string } }[] }>(
      await runCli(['batches', 'show', held.batch.id, '--json'], env),
    );
    expect(asJson.items.at(-1)?.r.reason).toBe(FORGED);
    expect((await readAudit(ctx)).length).toBeGreaterThan(0);
  }, 120_000);
});
