// An entra schedule ticking every second with two worker PROCESSES on the same Redis: each tick reads
// Entra once (one sweep audit entry per tick) and each leaver becomes one job however many ticks ran.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/interfaces.js';
import { closeQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { addSchedule, removeSchedule } from '../../src/schedule/schedules.js';
import { cliEnv, HALF_BUILT } from '../cli/run-cli.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import { openContext, workerConfig, workerEnv } from '../helpers/worker.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'entra-sweep-worker.mjs');
let redis: TestRedis;
let sim: TestSimulator;
let ctx: QueueContext;
const children: ChildProcess[] = [];

function spawnOnce(): { child: ChildProcess; ready: Promise<void> } {
  const env = workerEnv(redis, sim, redis.prefix, { GRAPH_READ_RATE_LIMIT: '1000/1s' });
  const child = spawn(process.execPath, [FIXTURE], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { child, ready };
}

async function startWorker(): Promise<ChildProcess> {
  for (let attempt = 1; ; attempt++) {
    const w = spawnOnce();
    try {
      await w.ready;
      return w.child;
    } catch (err) {
      if (attempt >= 5 || !HALF_BUILT.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

async function sweeps(): Promise<AuditRecord[]> {
  return (await readAudit(ctx, { reverse: false, count: 10_000 })).filter((e) => e.type === 'sweep');
}

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator();
  ctx = openContext(workerConfig(redis, sim, redis.prefix));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await closeQueueContext(ctx);
  await sim.close();
  await redis.stop();
});

it('runs each entra tick once across two worker processes', { timeout: 180_000 }, async () => {
  const now = Date.now();
  sim.control({
    users: {
      clear: true,
      upsert: ['mw1', 'mw2', 'mw3'].map((n, i) => ({
        userPrincipalName: `${n}@contoso.com`,
        employeeLeaveDateTime: new Date(now + (i + 1) * 86_400_000).toISOString(),
      })),
    },
  });
  const workers = await Promise.all([startWorker(), startWorker()]);
  await addSchedule(ctx, {
    name: 'entra-every-second',
    cron: '* * * * * *',
    tz: 'UTC',
    source: { type: 'entra', lookaheadMs: 14 * 86_400_000, reconcile: true },
  });
  const started = Date.now();
  const deadline = started + 90_000;
  let got: AuditRecord[] = await sweeps();
  for (; got.length < 6; got = await sweeps()) {
    if (Date.now() > deadline) throw new Error(`only ${got.length} sweeps: ${JSON.stringify(got.at(-1))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await removeSchedule(ctx, 'entra-every-second');
  const elapsedSec = (Date.now() - started) / 1000;
  const ticks = got.map((e) => e.details?.tick as string);
  expect(new Set(ticks).size).toBe(ticks.length);
  expect(ticks.length).toBeLessThanOrEqual(Math.ceil(elapsedSec) + 1);
  for (const e of got) expect(e.details?.error).toBeUndefined();
  expect(got[0]?.details).toMatchObject({ source: 'entra', found: 3, new: 3 });
  for (const e of got.slice(1))
    expect(e.details).toMatchObject({ found: 3, new: 0, duplicate: 3, withdrawn: 0 });
  expect(await ctx.retire.count()).toBe(3);
  // Each window starts where the previous complete read started: no gap between ticks.
  for (let i = 1; i < got.length; i++) {
    const prev = got[i - 1]?.details?.window as { readAt: string };
    const cur = got[i]?.details?.window as { from: string };
    expect(Date.parse(cur.from)).toBe(Math.floor(Date.parse(prev.readAt) / 1000) * 1000);
  }
  for (const w of workers) w.kill('SIGTERM');
});
