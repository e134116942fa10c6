// Issue 9, items 5 and 7, through the real API on loopback, the real CLI and a real Redis:
// - the two-person rule compares normalised actor names (alice submits, Alice may not approve);
// - held batches are capped per key and in total, atomically, with a clear 429 and nothing stored.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configLine } from '../../src/api/auth/keys.js';
import type { RunningApi } from '../../src/api/server.js';
import { submitBulk } from '../../src/front-door/front-door.js';
import { sameActor } from '../../src/guard/actor.js';
import { approveBatch, expireBatches, listBatches, rejectBatch } from '../../src/guard/batches.js';
import { HeldLimitError, TwoPersonRuleError } from '../../src/guard/errors.js';
import { heldUsage, heldUsageKey } from '../../src/guard/store.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { apiConfig, apiKeysEnv, KEYS, liveApi } from '../api/helpers.js';
import { json, runCli } from '../cli/run-cli.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const PRODUCER2 = 'obk_test-producer2-key-0123456789abcdefghijklmno';
let redis: TestRedis;
let dir: string;
const contexts: QueueContext[] = [];
const apis: RunningApi[] = [];
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'offboard-secguard-'));
});
afterAll(async () => {
  await Promise.all(apis.map((a) => a.close()));
  await Promise.all(contexts.map((c) => closeQueueContext(c)));
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

function envFor(extra: Record<string, string>): Record<string, string> {
  return { REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}sg${++n}`, ...extra };
}

function context(env: Record<string, string>): QueueContext {
  const ctx = createQueueContext(testConfig(env));
  contexts.push(ctx);
  return ctx;
}

const users = (tag: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ user: `${tag}${i}@contoso.com` }));

describe('item 5: the two-person rule compares normalised names', () => {
  it('alice submits, Alice (or " ALICE ") may not approve; the library, the CLI and API key names agree', async () => {
    expect(sameActor('alice', 'Alice')).toBe(true);
    expect(sameActor(' ALICE ', 'alice')).toBe(true);
    expect(sameActor('ａｌｉｃｅ', 'alice')).toBe(true);
    expect(sameActor('alice', 'alicia')).toBe(false);

    const env = envFor({ GUARD_THRESHOLD: '2', GUARD_TWO_PERSON: 'true' });
    const ctx = context(env);
    const held = await submitBulk(ctx, users('np', 3), { requestedBy: 'alice', source: 'batch' });
    if (!held.held) throw new Error('expected a held batch');
    for (const who of ['Alice', ' ALICE ', 'ａｌｉｃｅ']) {
      await expect(approveBatch(ctx, held.batch.id, who, { version: 1 })).rejects.toBeInstanceOf(
        TwoPersonRuleError,
      );
    }
    expect(await ctx.retire.count()).toBe(0);

    // The CLI: import as alice, approve as Alice → refused (exit 1), nothing enqueued.
    const file = join(dir, 'two.csv');
    writeFileSync(file, 'user\ncp1@contoso.com\ncp2@contoso.com\ncp3@contoso.com\n');
    const imp = await runCli(['import', file, '--as', 'alice', '--json'], env);
    expect(imp.code).toBe(0);
    const id = json<{ held: { id: string } }>(imp).held.id;
    const self = await runCli(['batches', 'approve', id, '--batch-version', '1', '--as', 'Alice'], env);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/another operator must approve/);
    expect(await ctx.retire.count()).toBe(0);

    // An API key's name and a CLI --as in another case are the same person too.
    const api = await liveApi(redis, {
      QUEUE_PREFIX: env.QUEUE_PREFIX as string,
      GUARD_THRESHOLD: '2',
      GUARD_TWO_PERSON: 'true',
    });
    apis.push(api);
    const res = await fetch(`${api.url}/v1/offboardings/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.producer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: users('kp', 3) }),
    });
    expect(res.status).toBe(202);
    const apiBatch = ((await res.json()) as { batch: { id: string; submittedBy: string } }).batch;
    expect(apiBatch.submittedBy).toBe('hr-system');
    const cross = await runCli(
      ['batches', 'approve', apiBatch.id, '--batch-version', '1', '--as', 'HR-System'],
      env,
    );
    expect(cross.code).toBe(1);
    expect(cross.stderr).toMatch(/another operator must approve/);

    // Someone else can.
    const ok = await runCli(['batches', 'approve', id, '--batch-version', '1', '--as', 'bob', '--json'], env);
    expect(ok.code).toBe(0);
    expect(await ctx.retire.count()).toBe(3);
  }, 120_000);

  it('--as refuses control characters and over-long names', async () => {
    const env = envFor({});
    for (const bad of ['alice\nbob', 'a\u0007', 'x'.repeat(65), 'al\u202eice']) {
      const r = await runCli(['queue', 'pause', '--as', bad], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--as/);
    }
  }, 60_000);
});

describe('item 7: held batches are capped per key and in total', () => {
  it('one producer key cannot fill Redis: the 6th held batch is 429 with nothing stored; another key still can; a decision frees room', async () => {
    const env = {
      GUARD_THRESHOLD: '2',
      GUARD_MAX_HELD_BATCHES_PER_KEY: '5',
      API_KEYS: `${apiKeysEnv()},${configLine('hr-two', 'producer', PRODUCER2)}`,
    };
    const prefix = `${redis.prefix}sg${++n}`;
    const api = await liveApi(redis, { QUEUE_PREFIX: prefix, ...env });
    apis.push(api);
    const ctx = createQueueContext(apiConfig(redis, { QUEUE_PREFIX: prefix, ...env }));
    contexts.push(ctx);
    const post = (key: string, tag: string, count = 3) =>
      fetch(`${api.url}/v1/offboardings/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: users(tag, count) }),
      });
    // Ten at once: the cap holds under concurrency (the check and the write are one script).
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(KEYS.producer, `f${i}-`)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    const refused = (await answers.find((a) => a.status === 429)?.json()) as {
      error: { code: string; message: string; details: Record<string, unknown> };
    };
    expect(refused.error.code).toBe('held_limit');
    expect(refused.error.message).toMatch(/nothing was held or enqueued.*GUARD_MAX_HELD_BATCHES_PER_KEY=5/);
    expect(refused.error.details).toMatchObject({ scope: 'batches_per_key', limit: 5, stored: false });
    // Nothing of the refused batches is in Redis: five batches, five item lists, no staging left.
    expect(await listBatches(ctx)).toHaveLength(5);
    expect(await ctx.redis.keys(`${keys.batch(prefix, '*')}`)).toHaveLength(5 * 2);
    expect(await ctx.redis.keys(keys.batchUsers(prefix, '*'))).toEqual([]);
    expect(await heldUsage(ctx, 'hr-system')).toEqual({ batches: 5, items: 15, totalItems: 15 });

    // Another producer is not blocked by the first one's backlog.
    expect((await post(PRODUCER2, 'other-')).status).toBe(202);
    // Rejecting one of the first key's batches frees its place.
    const mine = (await listBatches(ctx)).filter((b) => b.submittedBy === 'hr-system');
    await rejectBatch(ctx, mine[0]?.id as string, 'ops-alice', { reason: 'flood', version: 1 });
    expect((await post(KEYS.producer, 'again-')).status).toBe(202);
    expect((await post(KEYS.producer, 'again2-')).status).toBe(429);
    // Approving frees room too.
    await approveBatch(ctx, mine[1]?.id as string, 'ops-alice', { version: 1 });
    expect((await post(KEYS.producer, 'again3-')).status).toBe(202);
    expect(await heldUsage(ctx, 'hr-system')).toMatchObject({ batches: 5 });
  }, 120_000);

  it('caps items per key and in total, and expiry releases them', async () => {
    const env = envFor({
      GUARD_THRESHOLD: '2',
      GUARD_MAX_HELD_ITEMS_PER_KEY: '10',
      GUARD_MAX_HELD_ITEMS: '15',
      GUARD_TTL: '1s',
    });
    const ctx = context(env);
    const submit = (who: string, tag: string, count: number) =>
      submitBulk(ctx, users(tag, count), { requestedBy: who, source: 'batch' });
    expect((await submit('a', 'a1-', 6)).held).toBe(true);
    const perKey = await submit('A', 'a2-', 6).catch((e: unknown) => e);
    expect(perKey).toBeInstanceOf(HeldLimitError);
    expect(perKey).toMatchObject({ scope: 'items_per_key', limit: 10, current: 6, requested: 6 });
    expect((await submit('b', 'b1-', 8)).held).toBe(true);
    const total = await submit('c', 'c1-', 3).catch((e: unknown) => e);
    expect(total).toMatchObject({ scope: 'items_total', limit: 15, current: 14 });
    expect(await ctx.retire.count()).toBe(0);
    // After GUARD_TTL the batches expire and their room is released.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await expireBatches(ctx)).toHaveLength(2);
    expect(await ctx.redis.hgetall(heldUsageKey(ctx.prefix))).toEqual({});
    expect((await submit('c', 'c2-', 3)).held).toBe(true);
  }, 60_000);

  it('the CLI import past the cap exits 1 with a clear message and stores nothing', async () => {
    const env = envFor({ GUARD_THRESHOLD: '2', GUARD_MAX_HELD_BATCHES_PER_KEY: '1' });
    const ctx = context(env);
    const file = join(dir, `cap${n}.csv`);
    writeFileSync(file, 'user\nci1@contoso.com\nci2@contoso.com\nci3@contoso.com\n');
    expect((await runCli(['import', file, '--as', 'carol'], env)).code).toBe(0);
    const second = await runCli(['import', file, '--as', 'Carol'], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/batch not stored.*GUARD_MAX_HELD_BATCHES_PER_KEY=1/);
    const third = await runCli(
      ['enqueue', 'e1@contoso.com', 'e2@contoso.com', 'e3@contoso.com', '--as', 'carol'],
      env,
    );
    expect(third.code).toBe(1);
    expect(third.stderr).toMatch(/batch not stored/);
    expect(await listBatches(ctx)).toHaveLength(1);
    expect(await ctx.retire.count()).toBe(0);
  }, 120_000);
});
