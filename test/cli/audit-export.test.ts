// `offboard audit export`: the capped audit stream out as JSON lines, filtered by time, type and user,
// with a warning when the stream no longer reaches back to --since. Real CLI process, real Redis.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { appendAudit } from '../../src/records/audit.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { runCli } from './run-cli.js';

let redis: TestRedis;
let ctx: QueueContext;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'offboard-audit-'));

beforeAll(async () => {
  redis = await startRedis();
  env = { REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, AUDIT_MAX_LEN: '1000' };
  ctx = createQueueContext(testConfig(env));
  for (let i = 0; i < 30; i++) {
    await enqueue(ctx, { user: `audit-${i}@contoso.com` }, { requestedBy: 'alice', source: 'cli' });
  }
  await appendAudit(ctx, {
    type: 'paused',
    actor: 'bob',
    at: new Date().toISOString(),
    details: { reason: 'x' },
  });
});
afterAll(async () => {
  await closeQueueContext(ctx);
  await redis.stop();
});

const lines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; user?: string; actor: string; id: string });

describe('offboard audit export', () => {
  it('writes every entry as one JSON line, oldest first', async () => {
    const r = await runCli(['audit', 'export', '--since', '1h'], env);
    expect(r.code).toBe(0);
    const all = lines(r.stdout);
    expect(all).toHaveLength(31);
    expect(all[0]).toMatchObject({ type: 'requested', user: 'audit-0@contoso.com', actor: 'alice' });
    expect(all[30]).toMatchObject({ type: 'paused', actor: 'bob' });
    const ids = all.map((e) => e.id);
    expect([...ids].sort()).toEqual(ids);
  });

  it('filters by type and user, and writes to a new file only', async () => {
    const byType = await runCli(['audit', 'export', '--type', 'paused,resumed'], env);
    expect(lines(byType.stdout).map((e) => e.type)).toEqual(['paused']);
    // Every audit type is a valid filter, including the evidence and notification ones.
    const newer = await runCli(['audit', 'export', '--type', 'inventory,verified,reverify,notified'], env);
    expect(newer.code, newer.stderr).toBe(0);
    expect(lines(newer.stdout)).toEqual([]);
    const byUser = await runCli(['audit', 'export', '--user', 'AUDIT-7@contoso.com'], env);
    expect(lines(byUser.stdout)).toHaveLength(1);
    const out = join(dir, 'audit.jsonl');
    const w = await runCli(['audit', 'export', '--out', out], env);
    expect(w.code).toBe(0);
    expect(lines(readFileSync(out, 'utf8'))).toHaveLength(31);
    writeFileSync(join(dir, 'keep.jsonl'), 'precious\n');
    const again = await runCli(['audit', 'export', '--out', join(dir, 'keep.jsonl')], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists');
    expect(readFileSync(join(dir, 'keep.jsonl'), 'utf8')).toBe('precious\n');
  });

  it('warns when the stream was trimmed after --since, and refuses bad options with exit 2', async () => {
    const r = await runCli(['audit', 'export', '--since', '2020-01-01', '--type', 'paused'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/audit stream starts at .*nothing older/);
    for (const args of [
      ['--since', 'yesterday'],
      ['--type', 'retired,bogus'],
      ['--since', '1h', '--until', '2h'],
      ['--user', 'not a user'],
    ]) {
      const bad = await runCli(['audit', 'export', ...args], env);
      expect(bad.code, args.join(' ')).toBe(2);
    }
  });
});
