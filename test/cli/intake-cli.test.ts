// `offboard enqueue | import | status | cancel | reschedule` as child processes against a real Redis:
// exit codes (0 ok, 1 failure, 2 usage/config), --json output, one-line errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { testConfig } from '../helpers/config.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.js';
import { json, runCli } from './run-cli.js';

let redis: TestRedis;
let dir: string;
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'offboard-cli-'));
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh prefix and a context on it: each test sees only its own jobs. */
function setup(extra: Record<string, string> = {}) {
  const env = { REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}c${++n}`, ...extra };
  const ctx = createQueueContext(testConfig(env));
  return {
    env,
    ctx,
    cli: (...args: string[]) => runCli(args, env),
    close: () => closeQueueContext(ctx),
  };
}

async function withSetup(extra: Record<string, string>, fn: (s: ReturnType<typeof setup>) => Promise<void>) {
  const s = setup(extra);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function count(ctx: QueueContext): Promise<number> {
  return ctx.retire.count();
}

describe('enqueue', { timeout: 240_000 }, () => {
  it('queues one user (exit 0, --json) and reports the pending job for a repeat', () =>
    withSetup({}, async ({ cli, ctx }) => {
      const first = await cli('enqueue', 'Alice@Contoso.com', '--reason', 'left', '--as', 'op1', '--json');
      expect(first.code).toBe(0);
      const out = json<{
        held: boolean;
        results: { status: string; id: string; user: string; state: string }[];
      }>(first);
      expect(out.held).toBe(false);
      expect(out.results[0]).toMatchObject({
        status: 'accepted',
        user: 'alice@contoso.com',
        state: 'waiting',
      });
      const again = json<typeof out>(await cli('enqueue', 'alice@contoso.com', '--json'));
      expect(again.results[0]).toMatchObject({ status: 'duplicate', id: out.results[0]?.id });
      const job = await ctx.retire.getJob(out.results[0]?.id as string);
      expect(job?.data).toMatchObject({ requestedBy: 'op1', source: 'cli', reason: 'left' });
    }));

  it('turns a date plus --tz into a delayed job; --dry-run-jobs flags it', () =>
    withSetup({}, async ({ cli, ctx }) => {
      const r = await cli(
        'enqueue',
        'bob@contoso.com',
        '--effective-at',
        '2026-12-24',
        '--tz',
        'Europe/Berlin',
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/accepted\s+bob@contoso\.com .*delayed at 2026-12-23T23:00:00\.000Z/);
      const d = json<{ results: { id: string }[] }>(
        await cli('enqueue', 'carl@contoso.com', '--dry-run-jobs', '--json'),
      );
      expect((await ctx.retire.getJob(d.results[0]?.id as string))?.data.dryRun).toBe(true);
    }));

  it('refuses any invalid argument with exit 2 and enqueues nothing', () =>
    withSetup({}, async ({ cli, ctx }) => {
      const r = await cli('enqueue', 'good@contoso.com', 'not a user');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^offboard: nothing enqueued, 1 invalid argument/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect((await cli('enqueue', 'x@contoso.com', '--effective-at', '2026-12-24')).code).toBe(2);
      expect(
        (await cli('enqueue', 'x@contoso.com', '--effective-at', '2026-12-24', '--tz', 'Mars/Base')).code,
      ).toBe(2);
      expect((await cli('enqueue', 'x@contoso.com', '--as', 'bad name!')).code).toBe(2);
      expect(await count(ctx)).toBe(0);
    }));

  it('--dry-run shows the plan and enqueues nothing', () =>
    withSetup({}, async ({ cli, ctx }) => {
      await cli('enqueue', 'dup@contoso.com');
      const r = await cli(
        'enqueue',
        'dup@contoso.com',
        'new@contoso.com',
        'NEW@contoso.com',
        '--dry-run',
        '--json',
      );
      expect(r.code).toBe(0);
      expect(json<{ rows: { status: string }[] }>(r).rows.map((x) => x.status)).toEqual([
        'duplicate',
        'new',
        'duplicate',
      ]);
      expect(await count(ctx)).toBe(1);
    }));

  it('holds several users above GUARD_THRESHOLD', () =>
    withSetup({ GUARD_THRESHOLD: '2' }, async ({ cli, ctx }) => {
      const r = await cli('enqueue', 'a1@contoso.com', 'a2@contoso.com', 'a3@contoso.com', '--json');
      expect(r.code).toBe(0);
      expect(json<{ held: boolean; batch: { count: number } }>(r)).toMatchObject({
        held: true,
        batch: { count: 3 },
      });
      expect(await count(ctx)).toBe(0);
    }));

  it('exits 2 on a configuration error and 1 when Redis is unreachable, in one line', async () => {
    const bad = await runCli(['enqueue', 'a@contoso.com'], { REDIS_URL: 'http://nope', QUEUE_PREFIX: 'x' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/REDIS_URL/);
    const port = await freePort();
    const down = await runCli(['enqueue', 'a@contoso.com'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      QUEUE_PREFIX: 'x',
    });
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).not.toMatch(/\n\s+at /);
    const verbose = await runCli(['enqueue', 'a@contoso.com', '--verbose'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      QUEUE_PREFIX: 'x',
    });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });
});

describe('import', { timeout: 240_000 }, () => {
  const CSV =
    'user,effectiveAt,reason\nimp1@contoso.com,,a\nbad user,,b\nimp2@contoso.com,2026-12-01,c\nimp1@contoso.com\n';

  it('queues valid rows, reports bad rows by line on stderr, exits 1', () =>
    withSetup({}, async ({ cli, ctx }) => {
      const path = file('mixed.csv', CSV);
      const r = await cli('import', path, '--tz', 'Europe/Berlin', '--as', 'hr');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^line 3: user must be/m);
      expect(r.stdout).toMatch(/4 rows: 2 accepted, 1 duplicate, 1 invalid/);
      // Piped stderr: no progress bar.
      expect(r.stderr).not.toMatch(/[\u2588\u2591]|ETA/);
      expect(await count(ctx)).toBe(2);
    }));

  it('--json gives totals and errors with line numbers; all-good files exit 0', () =>
    withSetup({}, async ({ cli }) => {
      const r = await cli('import', file('j.csv', CSV), '--tz', 'UTC', '--json');
      expect(r.code).toBe(1);
      expect(json(r)).toMatchObject({
        lines: 4,
        accepted: 2,
        duplicate: 1,
        invalid: 1,
        errors: [{ line: 3, error: expect.stringMatching(/user/) }],
      });
      const ok = await cli('import', file('ok.csv', 'user\nok1@contoso.com\n'), '--json');
      expect(ok.code).toBe(0);
      expect(json(ok)).toMatchObject({ lines: 1, accepted: 1, invalid: 0 });
    }));

  it('--dry-run --json prints the plan per row and enqueues nothing', () =>
    withSetup({}, async ({ cli, ctx }) => {
      const r = await cli('import', file('plan.csv', CSV), '--dry-run', '--json', '--tz', 'UTC');
      const plan = json<{ rows: { line: number; status: string }[]; totals: Record<string, unknown> }>(r);
      expect(plan.rows.map((x) => `${x.line}:${x.status}`)).toEqual([
        '2:new',
        '3:invalid',
        '4:new',
        '5:duplicate',
      ]);
      expect(plan.totals).toMatchObject({
        dryRun: true,
        accepted: 2,
        duplicate: 1,
        invalid: 1,
        wouldHold: false,
      });
      // --plan is the same flag under the name the code uses (a plan is not a dry run).
      const alias = await cli('import', file('plan.csv', CSV), '--plan', '--json', '--tz', 'UTC');
      expect(alias.code).toBe(r.code);
      expect(json(alias)).toEqual(plan);
      expect(await count(ctx)).toBe(0);
    }));

  it('reads standard input with "-", exits 2 for a missing file, 1 for a bad header', () =>
    withSetup({}, async ({ env, cli, ctx }) => {
      const piped = await runCli(['import', '-', '--json'], env, { input: 'user\nstdin@contoso.com\n' });
      expect(piped.code).toBe(0);
      expect(json(piped)).toMatchObject({ accepted: 1 });
      expect((await cli('import', join(dir, 'missing.csv'))).code).toBe(2);
      const header = await cli('import', file('h.csv', 'mail\nx@contoso.com\n'));
      expect(header.code).toBe(1);
      expect(header.stderr).toMatch(/unknown column "mail"/);
      expect(await count(ctx)).toBe(1);
    }));

  it('holds an import above GUARD_THRESHOLD as one batch (exit 0)', () =>
    withSetup({ GUARD_THRESHOLD: '2' }, async ({ cli, ctx }) => {
      const r = await cli(
        'import',
        file('big.csv', 'user\nb1@contoso.com\nb2@contoso.com\nb3@contoso.com\n'),
        '--json',
      );
      expect(r.code).toBe(0);
      expect(json(r)).toMatchObject({ held: { state: 'held', count: 3, source: 'import' }, accepted: 0 });
      expect(await count(ctx)).toBe(0);
    }));
});

describe('status', { timeout: 240_000 }, () => {
  it('shows queue counts, one job by id, a user by name; unknown → exit 1', () =>
    withSetup({}, async ({ cli }) => {
      const e = json<{ results: { id: string }[] }>(await cli('enqueue', 'st@contoso.com', '--json'));
      const id = e.results[0]?.id as string;
      const all = await cli('status', '--json');
      expect(all.code).toBe(0);
      expect(json(all)).toMatchObject({
        retire: { waiting: 1 },
        paused: false,
        circuit: { open: false },
        heldBatches: 0,
      });
      const human = await cli('status');
      expect(human.stdout).toMatch(/retire\s+waiting 1/);
      const one = json<{ id: string; state: string; history: { type: string }[] }>(
        await cli('status', id, '--json'),
      );
      expect(one).toMatchObject({ id, state: 'waiting', user: 'st@contoso.com' });
      expect(one.history.map((h) => h.type)).toEqual(['requested']);
      expect(json(await cli('status', '--user', 'ST@contoso.com', '--json'))).toMatchObject({ id });
      const missing = await cli('status', 'nobody@contoso.com');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^offboard: no job or history/);
    }));
});

describe('cancel and reschedule', { timeout: 240_000 }, () => {
  it('cancels a future-dated leaver (audited with the actor); a second cancel exits 1', () =>
    withSetup({}, async ({ cli, ctx }) => {
      const at = new Date(Date.now() + 86_400_000).toISOString();
      await cli('enqueue', 'later@contoso.com', '--effective-at', at);
      const moved = await cli(
        'reschedule',
        'later@contoso.com',
        '--effective-at',
        '2026-12-31T09:00',
        '--tz',
        'UTC',
        '--json',
      );
      expect(moved.code).toBe(0);
      expect(json(moved)).toMatchObject({ state: 'delayed', effectiveAt: '2026-12-31T09:00:00.000Z' });
      const r = await cli('cancel', 'later@contoso.com', '--as', 'op2', '--json');
      expect(r.code).toBe(0);
      expect(json(r)).toMatchObject({
        user: 'later@contoso.com',
        state: 'cancelled',
        previousState: 'delayed',
      });
      expect(await count(ctx)).toBe(0);
      const audit = await readAudit(ctx);
      expect(audit.find((a) => a.type === 'cancelled')).toMatchObject({
        actor: 'op2',
        user: 'later@contoso.com',
      });
      expect(audit.some((a) => a.type === 'rescheduled')).toBe(true);
      const again = await cli('cancel', 'later@contoso.com');
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^offboard: no pending offboarding for later@contoso\.com$/m);
      expect((await cli('cancel')).code).toBe(2);
      expect((await cli('cancel', 'not a user')).code).toBe(2);
      expect((await cli('cancel', '--job', 'no-such-job')).code).toBe(1);
      // The user may be enqueued again after a cancel (its deduplication key went with the job).
      expect(
        json<{ results: { status: string }[] }>(await cli('enqueue', 'later@contoso.com', '--json'))
          .results[0]?.status,
      ).toBe('accepted');
    }));
});
