// Long CLI work shows progress only to a person at a terminal (evidence export, dlq redrive/discard
// --all), never with --no-progress, --json or a piped stderr; and with --json every error is one JSON
// line on stderr with the usual exit codes. All through the spawned CLI (a pty from `script` for the
// terminal cases) against a real Redis.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveEvidence } from '../../src/evidence/store.js';
import { enqueue } from '../../src/intake/enqueue.js';
import type { EvidenceRecord } from '../../src/interfaces.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { listDeadLetters, moveToDeadLetter } from '../../src/records/dead-letter.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { json, runCli, runCliTty } from './run-cli.js';

const DAY = 86_400_000;
// A cli-progress frame (its default legacy glyphs) followed by our formats' percentage token.
const BAR = /[=-]{40} \d+% \|/;

let redis: TestRedis;
let ctx: QueueContext;
let env: Record<string, string>;
let dir: string;

function evidence(i: number): EvidenceRecord {
  const at = new Date(Date.now() - 3_600_000 + i).toISOString();
  return {
    jobId: `pj-${i}`,
    user: `pj${i}@contoso.com`,
    requestedBy: 'test',
    correlationId: `c-${i}`,
    source: 'cli',
    inventoriedAt: at,
    inventoryRequestIds: [],
    devices: [{ id: `d-${i}`, deviceName: `PC ${i}`, managementState: 'managed' }],
    action: { at, requestId: `req-${i}`, status: 204 },
    outcome: 'retired',
    verification: { state: 'pending', checks: 0, devices: [] },
  };
}

async function deadLetters(users: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const user of users) {
    const r = await enqueue(ctx, { user }, { requestedBy: 'hr', source: 'api' });
    const job = await ctx.retire.getJob(r.id);
    ids.push(
      await moveToDeadLetter(ctx, job as NonNullable<typeof job>, {
        reason: 'not_found',
        lastStatus: 404,
        attempts: 1,
        throttledWaits: 0,
      }),
    );
    await job?.remove();
  }
  return ids;
}

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'offboard-cli-progress-'));
  env = { REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix };
  ctx = createQueueContext(testConfig(env));
  for (let i = 0; i < 40; i++) await saveEvidence(ctx.redis, ctx.prefix, evidence(i), 30 * DAY);
});

afterAll(async () => {
  await closeQueueContext(ctx);
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('progress on a terminal', { timeout: 240_000 }, () => {
  it('evidence export draws a bar that reaches every leaver, and the file has every row', async () => {
    const out = join(dir, 'ev.csv');
    const r = await runCliTty(['evidence', '--from', '2d', '--out', out], env);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(BAR);
    expect(r.output).toContain('100%');
    expect(r.output).toContain('40/40 leavers');
    expect(r.output).toContain('40 rows (40 leavers');
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(41);
  });

  it('evidence export draws nothing with --no-progress, or when stderr is piped', async () => {
    const quiet = await runCliTty(
      ['evidence', '--from', '2d', '--out', join(dir, 'quiet.csv'), '--no-progress'],
      env,
    );
    expect(quiet.code, quiet.output).toBe(0);
    expect(quiet.output).not.toMatch(BAR);
    expect(quiet.output).toContain('40 rows (40 leavers');
    const piped = await runCli(['evidence', '--from', '2d', '--format', 'json'], env);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).not.toMatch(BAR);
    expect(json<{ count: number }>(piped).count).toBe(40);
  });

  it('dlq redrive --all counts redriven dead letters on a bar; --no-progress and --json draw none', async () => {
    await deadLetters(['p1@contoso.com', 'p2@contoso.com', 'p3@contoso.com']);
    const r = await runCliTty(['dlq', 'redrive', '--all', '--as', 'op'], env);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(BAR);
    expect(r.output).toContain('3/3 redriven');
    expect(r.output.match(/redriven dl-/g)).toHaveLength(3);
    expect((await listDeadLetters(ctx, { limit: 10 })).total).toBe(0);
    // The acts are audited with the actor, bar or not.
    const audit = await readAudit(ctx, { count: 200 });
    expect(audit.filter((a) => a.type === 'redriven' && a.actor === 'op')).toHaveLength(3);

    await deadLetters(['p4@contoso.com', 'p5@contoso.com']);
    const quiet = await runCliTty(['dlq', 'redrive', '--all', '--as', 'op', '--no-progress'], env);
    expect(quiet.code, quiet.output).toBe(0);
    expect(quiet.output).not.toMatch(BAR);
    expect(quiet.output.match(/redriven dl-/g)).toHaveLength(2);

    await deadLetters(['p6@contoso.com']);
    const asJson = await runCliTty(['dlq', 'discard', '--all', '--as', 'op', '--json'], env);
    expect(asJson.code, asJson.output).toBe(0);
    expect(asJson.output).not.toMatch(BAR);
    expect(JSON.parse(asJson.output).done).toHaveLength(1);
  });
});

describe('--json errors', { timeout: 240_000 }, () => {
  const jsonLine = (stderr: string) => {
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0] as string) as { error: { code: string; message: string; details?: unknown } };
  };

  it('a usage error is JSON on stderr, exit 2; the same without --json stays a text line', async () => {
    const r = await runCli(['dlq', 'redrive', '--json'], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(jsonLine(r.stderr).error).toEqual({ code: 'usage', message: expect.stringContaining('--all') });
    const text = await runCli(['dlq', 'redrive'], env);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/^offboard: give one or more dead-letter ids/);
  });

  it("commander's own errors (unknown option, bad argument) are JSON too, exit 2, no help text", async () => {
    const r = await runCli(['dlq', 'list', '--json', '--bogus'], env);
    expect(r.code).toBe(2);
    expect(jsonLine(r.stderr).error).toEqual({ code: 'usage', message: "unknown option '--bogus'" });
    expect(r.stderr).not.toContain('Usage:');
  });

  it('a configuration error is JSON with every problem in details, exit 2, and no secret echoed', async () => {
    const r = await runCli(['dlq', 'list', '--json'], {
      ...env,
      REDIS_URL: 'ftp://nope',
      WEBHOOK_URLS: 'https://hooks.example.com/x',
      WEBHOOK_SECRET: 'short-secret',
    });
    expect(r.code).toBe(2);
    const e = jsonLine(r.stderr).error;
    expect(e.code).toBe('config');
    const issues = (e.details as { issues: string[] }).issues;
    expect(issues.some((i) => i.startsWith('REDIS_URL'))).toBe(true);
    expect(issues.some((i) => i.startsWith('WEBHOOK_SECRET'))).toBe(true);
    expect(r.stderr).not.toContain('short-secret');
  });

  it('a failure is JSON, exit 1, with the result still on stdout', async () => {
    const r = await runCli(['dlq', 'redrive', 'dl-does-not-exist', '--json', '--as', 'op'], env);
    expect(r.code).toBe(1);
    expect(json<{ failed: { id: string }[] }>(r).failed.map((f) => f.id)).toEqual(['dl-does-not-exist']);
    expect(jsonLine(r.stderr).error).toEqual({ code: 'failed', message: '1 of 1 failed' });
    const ev = await runCli(['evidence', 'verify', 'no-such-job', '--json', '--as', 'op'], env);
    expect(ev.code).toBe(1);
    expect(jsonLine(ev.stderr).error.code).toBe('failed');
  });
});
