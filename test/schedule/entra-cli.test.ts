// `offboard schedule add|list` for the entra source, as child processes: the keyword, the duration
// flags and their bounds, flags refused for other sources, and a failing schedule shown with its reason.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { addSchedule } from '../../src/schedule/schedules.js';
import { recordSweepFailure, recordSweepSuccess } from '../../src/schedule/sweep-status.js';
import { KEYS, testApp } from '../api/helpers.js';
import { runCli } from '../cli/run-cli.js';
import { ConsoleClient } from '../console/helpers.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let ctx: QueueContext;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  env = { REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix };
  ctx = createQueueContext(testConfig(env));
});
afterAll(async () => {
  await closeQueueContext(ctx);
  await redis.stop();
});

// `add` records who acted; `list` takes no actor.
const cli = (...args: string[]) =>
  runCli(['schedule', ...args, ...(args[0] === 'add' ? ['--as', 'alice'] : [])], env);

it('adds an entra schedule with lookahead, offset and reconcile, refusing values out of range', {
  timeout: 120_000,
}, async () => {
  const add = await cli(
    'add',
    'leavers',
    '--cron',
    '*/15 * * * *',
    '--tz',
    'Europe/Berlin',
    '--source',
    'entra',
    '--lookahead',
    '14d',
    '--offset',
    '-2h',
    '--no-reconcile',
    '--json',
  );
  expect(add.code, add.stderr).toBe(0);
  expect(JSON.parse(add.stdout)).toMatchObject({
    name: 'leavers',
    tz: 'Europe/Berlin',
    addedBy: 'alice',
    source: { type: 'entra', lookaheadMs: 14 * 86_400_000, offsetMs: -7_200_000, reconcile: false },
  });
  const defaults = await cli('add', 'leavers2', '--cron', '0 * * * *', '--source', 'entra', '--json');
  expect(JSON.parse(defaults.stdout).source).toEqual({
    type: 'entra',
    lookaheadMs: 14 * 86_400_000,
    reconcile: true,
  });

  for (const bad of [
    ['--lookahead', '91d'],
    ['--lookahead', '30m'],
    ['--offset', '8d'],
    ['--offset=-8d'],
    ['--lookahead', 'soon'],
  ]) {
    const r = await cli('add', 'bad', '--cron', '0 * * * *', '--source', 'entra', ...bad);
    expect(r.code, bad.join(' ')).toBe(2);
    expect(r.stderr).toMatch(/lookahead|offset/);
  }
  const csv = await cli(
    'add',
    'bad',
    '--cron',
    '0 * * * *',
    '--source',
    '/tmp/leavers.csv',
    '--lookahead',
    '3d',
  );
  expect(csv.code).toBe(2);
  expect(csv.stderr).toContain('apply to --source entra only');
  const list = await cli('list', '--json');
  expect(JSON.parse(list.stdout).map((s: { name: string }) => s.name)).toEqual(['leavers', 'leavers2']);
});

it('lists a failing schedule with its reason, and the last good tick with rescheduled and withdrawn', {
  timeout: 60_000,
}, async () => {
  await recordSweepSuccess(ctx, {
    schedule: 'leavers',
    tick: new Date().toISOString(),
    source: 'entra',
    found: 4,
    new: 1,
    rescheduled: 2,
    withdrawn: 1,
    duplicate: 1,
    invalid: 0,
    held: null,
    dryRun: false,
  });
  await recordSweepFailure(
    ctx,
    'leavers',
    Date.now() + 5,
    'Entra users read failed on page 1: HTTP 403 Authorization_RequestDenied',
  );
  const text = await cli('list');
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(
    /leavers {2}"\*\/15 \* \* \* \*" Europe\/Berlin {2}entra employeeLeaveDateTime, lookahead 14d, offset -2h, reconcile off/,
  );
  expect(text.stdout).toMatch(
    /FAILING since .*: Entra users read failed on page 1: HTTP 403 Authorization_RequestDenied; last good .*found 4, new 1, rescheduled 2, withdrawn 1/,
  );
  const json = JSON.parse((await cli('list', '--json')).stdout) as {
    name: string;
    status?: { failing: boolean; lastError?: string };
  }[];
  expect(json.find((s) => s.name === 'leavers')?.status).toMatchObject({
    failing: true,
    lastError: expect.stringContaining('HTTP 403'),
  });
  expect(json.find((s) => s.name === 'leavers2')?.status).toBeUndefined();
});

it('shows the entra source, the last summary and the failure reason on the console schedules page', {
  timeout: 60_000,
}, async () => {
  const t = await testApp();
  try {
    await addSchedule(t.ctx, {
      name: 'leavers',
      cron: '*/15 * * * *',
      tz: 'Europe/Berlin',
      source: { type: 'entra', lookaheadMs: 14 * 86_400_000, offsetMs: 7_200_000, reconcile: true },
    });
    await recordSweepSuccess(t.ctx, {
      schedule: 'leavers',
      tick: new Date().toISOString(),
      source: 'entra',
      found: 3,
      new: 1,
      rescheduled: 1,
      withdrawn: 1,
      duplicate: 0,
      invalid: 0,
      held: null,
      dryRun: false,
    });
    await recordSweepFailure(t.ctx, 'leavers', Date.now() + 5, 'Entra users read failed on page 2: HTTP 503');
    const c = new ConsoleClient(t.app);
    await c.signIn(KEYS.viewer);
    const res = await c.get('/console/schedules');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('lookahead 14d, offset 2h, reconcile on');
    expect(res.body).toMatch(/found 3, new 1, rescheduled 1, withdrawn 1/);
    expect(res.body).toContain('failing');
    expect(res.body).toContain('Entra users read failed on page 2: HTTP 503');
  } finally {
    await t.close();
  }
});
