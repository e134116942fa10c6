// A sweep every second with two worker PROCESSES: each tick runs exactly once, fan-out is
// deduplicated, and the schedule survives a Redis restart and a restart of the workers.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/interfaces.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { addSchedule, listSchedules, removeSchedule } from '../../src/schedule/schedules.js';
import { cliEnv, HALF_BUILT } from '../cli/run-cli.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'sweep-worker.mjs');

let redis: TestRedis;
let ctx: QueueContext;
let dir: string;
const children: ChildProcess[] = [];

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  output: () => string;
}

function spawnOnce(): Worker {
  const child = spawn(process.execPath, [FIXTURE], {
    env: cliEnv({ REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, SCHEDULE_CSV_DIR: dir }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('ready\n')) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`sweep worker exited: ${out}`));
      }
    }, 50);
  });
  return { child, ready, output: () => out };
}

/** Starts a sweep worker; a start that hit a dist/ rebuild by another test run is retried. */
async function startWorker(): Promise<Worker> {
  for (let attempt = 1; ; attempt++) {
    const w = spawnOnce();
    try {
      await w.ready;
      return w;
    } catch (err) {
      if (attempt >= 5 || !HALF_BUILT.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

async function stop(w: Worker): Promise<void> {
  if (w.child.exitCode !== null) return;
  const exited = new Promise((r) => w.child.once('exit', r));
  w.child.kill('SIGTERM');
  const timer = setTimeout(() => w.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function sweeps(): Promise<AuditRecord[]> {
  return (await readAudit(ctx, { reverse: false, count: 10_000 })).filter((e) => e.type === 'sweep');
}

async function waitFor<T>(fn: () => Promise<T | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => false as const);
    if (v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
  dir = mkdtempSync(join(tmpdir(), 'offboard-sweep-mp-'));
  ctx = createQueueContext(
    testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, SCHEDULE_CSV_DIR: dir }),
  );
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await closeQueueContext(ctx);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('runs each tick once across two workers and keeps the schedule over restarts', {
  timeout: 300_000,
}, async () => {
  const csv = join(dir, 'leavers.csv');
  writeFileSync(csv, 'user\nmp1@contoso.com\nmp2@contoso.com\nmp3@contoso.com\n');
  const workers = await Promise.all([startWorker(), startWorker()]);
  await addSchedule(ctx, {
    name: 'every-second',
    cron: '* * * * * *',
    tz: 'UTC',
    source: { type: 'csv', path: csv },
  });
  const started = Date.now();

  const first = await waitFor(async () => {
    const s = await sweeps();
    return s.length >= 6 ? s : false;
  }, 'six sweeps');
  const elapsedSec = (Date.now() - started) / 1000;
  const ticks = first.map((e) => e.details?.tick as string);
  // Exactly one run per tick: no tick twice, and never more runs than seconds elapsed.
  expect(new Set(ticks).size).toBe(ticks.length);
  expect(ticks.length).toBeLessThanOrEqual(Math.ceil(elapsedSec) + 1);
  for (const t of ticks) expect(Date.parse(t) % 1000).toBe(0);
  // Fan-out with deduplication: three jobs however many ticks ran.
  expect(first[0]?.details).toMatchObject({ schedule: 'every-second', found: 3, new: 3, duplicate: 0 });
  for (const e of first.slice(1)) expect(e.details).toMatchObject({ found: 3, new: 0, duplicate: 3 });
  expect(await ctx.retire.count()).toBe(3);
  const completedBy = workers.map((w) => (w.output().match(/"name":"sweep"/g) ?? []).length);
  expect(completedBy.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(first.length);

  // Redis restart (AOF): the schedule is still there and ticks keep coming to the same workers.
  await redis.restart({ downMs: 500 });
  const restartedAt = Date.now();
  expect((await listSchedules(ctx)).map((s) => s.name)).toEqual(['every-second']);
  await waitFor(async () => {
    const s = await sweeps();
    return s.filter((e) => !e.details?.error && Date.parse(e.at) > restartedAt).length >= 2 || false;
  }, 'sweeps after the Redis restart');

  // Worker restart: new processes pick the schedule up from Redis.
  await Promise.all(workers.map(stop));
  const fresh = await startWorker();
  const freshAt = Date.now();
  await waitFor(async () => {
    const s = await sweeps();
    return s.filter((e) => !e.details?.error && Date.parse(e.at) > freshAt).length >= 2 || false;
  }, 'sweeps after the worker restart');
  expect(await ctx.retire.count()).toBe(3);

  await removeSchedule(ctx, 'every-second');
  await new Promise((r) => setTimeout(r, 1500));
  const settled = (await sweeps()).length;
  await new Promise((r) => setTimeout(r, 2000));
  expect((await sweeps()).length).toBe(settled);
  await stop(fresh);
});
