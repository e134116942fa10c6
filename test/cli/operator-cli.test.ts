// `offboard dlq | schedule | batches | queue` and every command's --help, as child processes
// against a real Redis: exit codes (0 ok, 1 failure, 2 usage/config) and --json output.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/intake/enqueue.js';
import { closeQueueContext, createQueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { json, runCli } from './run-cli.js';

let redis: TestRedis;
let dir: string;
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'offboard-cli-op-'));
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function withSetup(
  extra: Record<string, string>,
  fn: (s: {
    env: Record<string, string>;
    ctx: ReturnType<typeof createQueueContext>;
    cli: (...args: string[]) => ReturnType<typeof runCli>;
  }) => Promise<void>,
) {
  const env = { REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}o${++n}`, ...extra };
  const ctx = createQueueContext(testConfig(env));
  try {
    await fn({ env, ctx, cli: (...args) => runCli(args, env) });
  } finally {
    await closeQueueContext(ctx);
  }
}

/** Runs at most three CLI processes at a time: the machine is small and shared. */
async function inBatches<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 3) out.push(...(await Promise.all(items.slice(i, i + 3).map(fn))));
  return out;
}

describe('help and usage', { timeout: 240_000 }, () => {
  const commands = [
    ['enqueue'],
    ['import'],
    ['status'],
    ['cancel'],
    ['reschedule'],
    ['dlq'],
    ['dlq', 'list'],
    ['dlq', 'redrive'],
    ['dlq', 'discard'],
    ['schedule'],
    ['schedule', 'add'],
    ['schedule', 'list'],
    ['schedule', 'remove'],
    ['batches'],
    ['batches', 'list'],
    ['batches', 'approve'],
    ['batches', 'reject'],
    ['queue', 'pause'],
    ['queue', 'resume'],
  ];
  it('prints --help with an example for every command (exit 0)', async () => {
    const results = await inBatches(commands, (c) => runCli([...c, '--help'], {}));
    for (const [i, r] of results.entries()) {
      expect(r.code, commands[i]?.join(' ')).toBe(0);
      expect(r.stdout, commands[i]?.join(' ')).toMatch(/Example/);
      expect(r.stdout).toMatch(new RegExp(`offboard ${commands[i]?.[0]}`));
    }
  });

  it('exits 2 on unknown options, missing arguments and bad option values', {
    timeout: 240_000,
  }, async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}usage` };
    const runs = await inBatches(
      [
        () => runCli(['enqueue'], env),
        () => runCli(['enqueue', 'a@contoso.com', '--bogus'], env),
        () => runCli(['batches', 'list', '--state', 'weird'], env),
        () => runCli(['dlq', 'list', '--reason', 'weird'], env),
        () => runCli(['dlq', 'list', '--limit', 'many'], env),
        () => runCli(['dlq', 'redrive'], env),
        () => runCli(['schedule', 'add', 'x', '--source', '/tmp/x.csv'], env),
        () => runCli(['nonsense'], env),
      ],
      (run) => run(),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(2);
  });
});

describe('dlq', { timeout: 240_000 }, () => {
  it('lists, redrives and discards dead letters; unknown ids exit 1', () =>
    withSetup({}, async ({ ctx, cli }) => {
      const ids: string[] = [];
      for (const user of ['dl1@contoso.com', 'dl2@contoso.com', 'dl3@contoso.com']) {
        const r = await enqueue(ctx, { user }, { requestedBy: 'hr', source: 'api' });
        const job = await ctx.retire.getJob(r.id);
        ids.push(
          await moveToDeadLetter(ctx, job as NonNullable<typeof job>, {
            reason: user === 'dl3@contoso.com' ? 'forbidden' : 'not_found',
            lastStatus: user === 'dl3@contoso.com' ? 403 : 404,
            attempts: 1,
            throttledWaits: 0,
          }),
        );
        await job?.remove();
      }
      const list = await cli('dlq', 'list', '--json');
      expect(list.code).toBe(0);
      expect(json<{ total: number }>(list).total).toBe(3);
      const nf = json<{ items: { id: string; reason: string }[]; total: number }>(
        await cli('dlq', 'list', '--reason', 'not_found', '--json'),
      );
      expect(nf.total).toBe(2);
      expect(nf.items.every((d) => d.reason === 'not_found')).toBe(true);

      const redrive = await cli('dlq', 'redrive', ids[0] as string, '--as', 'op', '--json');
      expect(redrive.code).toBe(0);
      const done = json<{ done: { jobId: string }[]; failed: unknown[] }>(redrive);
      expect(done.failed).toEqual([]);
      expect((await ctx.retire.getJob(done.done[0]?.jobId as string))?.data).toMatchObject({
        user: 'dl1@contoso.com',
        source: 'redrive',
        requestedBy: 'op',
      });

      const discard = await cli(
        'dlq',
        'discard',
        '--all',
        '--reason',
        'forbidden',
        '--note',
        'gone',
        '--json',
      );
      expect(discard.code).toBe(0);
      expect(json<{ done: unknown[] }>(discard).done).toHaveLength(1);
      expect((await readAudit(ctx)).find((a) => a.type === 'discarded')).toMatchObject({
        user: 'dl3@contoso.com',
      });

      const partly = await cli('dlq', 'redrive', ids[1] as string, 'dl-nope', '--json');
      expect(partly.code).toBe(1);
      expect(json<{ done: unknown[]; failed: { id: string }[] }>(partly)).toMatchObject({
        done: [expect.anything()],
        failed: [{ id: 'dl-nope' }],
      });
      expect(json<{ total: number }>(await cli('dlq', 'list', '--json')).total).toBe(0);
    }));
});

describe('schedule', { timeout: 240_000 }, () => {
  it('adds, lists and removes schedules; a bad cron exits 2, an unknown name 1', () =>
    withSetup({ SCHEDULE_CSV_DIR: dir }, async ({ cli }) => {
      const csv = join(dir, 'leavers.csv');
      writeFileSync(csv, 'user\nsched@contoso.com\n');
      const add = await cli(
        'schedule',
        'add',
        'nightly',
        '--cron',
        '0 2 * * *',
        '--tz',
        'Europe/Berlin',
        '--source',
        csv,
        '--json',
      );
      expect(add.code).toBe(0);
      const view = json<{ name: string; next: string; source: unknown }>(add);
      expect(view).toMatchObject({
        name: 'nightly',
        tz: 'Europe/Berlin',
        source: { type: 'csv', path: csv },
      });
      // 02:00 in Berlin is 00:00 or 01:00 UTC.
      expect(new Date(view.next).getUTCHours()).toBeLessThan(2);
      const feed = await cli(
        'schedule',
        'add',
        'hr',
        '--cron',
        '*/15 * * * *',
        '--source',
        'https://hr.example.com/leavers',
        '--token-env',
        'OFFBOARD_FEED_TOKEN_HR',
        '--dry-run-jobs',
      );
      expect(feed.code).toBe(0);
      const list = json<{ name: string; dryRun?: boolean }[]>(await cli('schedule', 'list', '--json'));
      expect(list.map((s) => s.name)).toEqual(['hr', 'nightly']);
      expect(list[0]?.dryRun).toBe(true);
      expect(JSON.stringify(list)).not.toMatch(/secret/);

      const run = await cli('schedule', 'run', 'nightly', '--json');
      expect(run.code).toBe(0);
      expect(json(run)).toMatchObject({
        schedule: 'nightly',
        found: 1,
        new: 1,
        duplicate: 0,
        invalid: 0,
        held: null,
      });

      expect((await cli('schedule', 'add', 'bad', '--cron', 'every day', '--source', csv)).code).toBe(2);
      expect(
        (await cli('schedule', 'add', 'plain', '--cron', '0 2 * * *', '--source', 'http://hr.example.com/x'))
          .code,
      ).toBe(2);
      expect(
        (await cli('schedule', 'add', 'tz', '--cron', '0 2 * * *', '--tz', 'Mars/Base', '--source', csv))
          .code,
      ).toBe(2);
      const rm = await cli('schedule', 'remove', 'nightly', '--json');
      expect(rm.code).toBe(0);
      expect(json(rm)).toEqual({ removed: 'nightly' });
      expect((await cli('schedule', 'remove', 'nightly')).code).toBe(1);
      expect(json<unknown[]>(await cli('schedule', 'list', '--json'))).toHaveLength(1);
    }));
});

describe('batches', { timeout: 240_000 }, () => {
  it('holds, refuses self-approval under two-person rule, approves by another operator, rejects', () =>
    withSetup({ GUARD_THRESHOLD: '3', GUARD_TWO_PERSON: 'true' }, async ({ ctx, cli }) => {
      const file = join(dir, `batch${n}.csv`);
      writeFileSync(file, `user\n${Array.from({ length: 4 }, (_, i) => `bt${i}@contoso.com`).join('\n')}\n`);
      const imp = json<{ held: { id: string } }>(await cli('import', file, '--as', 'alice', '--json'));
      const id = imp.held.id;
      const list = await cli('batches', 'list', '--state', 'held', '--json');
      expect(list.code).toBe(0);
      expect(json(list)).toEqual([
        expect.objectContaining({ id, state: 'held', count: 4, submittedBy: 'alice' }),
      ]);
      const show = json<{ items: { n: number; r: { user: string } }[] }>(
        await cli('batches', 'show', id, '--json'),
      );
      expect(show.items.map((i) => i.n)).toEqual([2, 3, 4, 5]);

      const self = await cli('batches', 'approve', id, '--batch-version', '1', '--as', 'alice');
      expect(self.code).toBe(1);
      expect(self.stderr).toMatch(/another operator must approve/);
      expect(await ctx.retire.count()).toBe(0);

      const ok = await cli('batches', 'approve', id, '--batch-version', '1', '--as', 'bob', '--json');
      expect(ok.code).toBe(0);
      expect(json(ok)).toMatchObject({ id, state: 'approved', decidedBy: 'bob', result: { accepted: 4 } });
      expect(await ctx.retire.count()).toBe(4);
      expect((await cli('batches', 'approve', id, '--batch-version', '1', '--as', 'carol')).code).toBe(1);

      const second = json<{ held: boolean; batch: { id: string } }>(
        await cli(
          'enqueue',
          'x1@contoso.com',
          'x2@contoso.com',
          'x3@contoso.com',
          'x4@contoso.com',
          '--as',
          'alice',
          '--json',
        ),
      );
      const rej = await cli(
        'batches',
        'reject',
        second.batch.id,
        '--batch-version',
        '1',
        '--reason',
        'typo',
        '--as',
        'alice',
        '--json',
      );
      expect(rej.code).toBe(0);
      expect(json(rej)).toMatchObject({ state: 'rejected', reason: 'typo' });
      expect(await ctx.retire.count()).toBe(4);
      expect((await cli('batches', 'reject', 'no-such-batch', '--batch-version', '1')).code).toBe(1);
    }));
});

describe('queue pause and resume', { timeout: 240_000 }, () => {
  it('pauses and resumes, recording who acted', () =>
    withSetup({}, async ({ ctx, cli }) => {
      const p = await cli('queue', 'pause', '--reason', 'change freeze', '--as', 'ops1', '--json');
      expect(p.code).toBe(0);
      expect(json(p)).toMatchObject({ paused: true, pause: { reason: 'change freeze', actor: 'ops1' } });
      expect(await ctx.retire.isPaused()).toBe(true);
      expect(json(await cli('status', '--json'))).toMatchObject({ paused: true, pause: { actor: 'ops1' } });
      const r = await cli('queue', 'resume', '--as', 'ops2', '--json');
      expect(r.code).toBe(0);
      expect(json(r)).toMatchObject({ paused: false, circuitWasOpen: false });
      expect(await ctx.retire.isPaused()).toBe(false);
      const audit = await readAudit(ctx);
      expect(audit.find((a) => a.type === 'paused')?.actor).toBe('ops1');
      expect(audit.find((a) => a.type === 'resumed')?.actor).toBe('ops2');
    }));
});
