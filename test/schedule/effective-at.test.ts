// Leave-date runs end to end: a real `offboard worker` process against the Graph simulator.
// The simulator's per-call arrival times prove when Graph was called.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cancelUser } from '../../src/intake/cancel.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { rescheduleJob } from '../../src/intake/reschedule.js';
import type { QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { addSchedule, removeSchedule } from '../../src/schedule/schedules.js';
import { type Simulator, startSimulator } from '../../src/sim/index.js';
import type { ManagedProcess } from '../helpers/processes.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import {
  closeQueueContext,
  openContext,
  spawnTestWorker,
  uniquePrefix,
  waitFor,
  waitForOutcomes,
  workerConfig,
  workerEnv,
} from '../helpers/worker.js';

let redis: TestRedis;
let sim: Simulator;
let ctx: QueueContext;
let worker: ManagedProcess;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startSimulator({ latencyMs: 5 });
  const prefix = uniquePrefix(redis.prefix);
  dir = mkdtempSync(join(tmpdir(), 'offboard-leave-'));
  ctx = openContext(workerConfig(redis, sim, prefix, { SCHEDULE_CSV_DIR: dir }));
  worker = spawnTestWorker('leave-date', workerEnv(redis, sim, prefix, { SCHEDULE_CSV_DIR: dir }));
  await worker.waitForOutput(/worker started/, 60_000);
});
afterAll(async () => {
  await worker?.stop(10_000);
  await closeQueueContext(ctx);
  await sim.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An ISO 8601 instant with an explicit +01:00 offset, `ms` from now. */
function inMs(ms: number): { iso: string; at: number } {
  const at = Date.now() + ms;
  const local = new Date(at + 3_600_000).toISOString().replace('Z', '+01:00');
  return { iso: local, at };
}

function callsFor(user: string): number[] {
  return sim
    .stats()
    .graph.log.filter((e) => e.user.toLowerCase().includes(user))
    .map((e) => e.at);
}

it('retires a leaver due in 2 s at that moment, not before; a moved one at its new time; a cancelled one never', {
  timeout: 120_000,
}, async () => {
  const due = inMs(2_000);
  const moved = inMs(2_000);
  const cancelled = inMs(2_000);
  const a = await enqueue(
    ctx,
    { user: 'due@contoso.com', effectiveAt: due.iso },
    { requestedBy: 'hr', source: 'api' },
  );
  const b = await enqueue(
    ctx,
    { user: 'moved@contoso.com', effectiveAt: moved.iso },
    { requestedBy: 'hr', source: 'api' },
  );
  await enqueue(
    ctx,
    { user: 'cancelled@contoso.com', effectiveAt: cancelled.iso },
    { requestedBy: 'hr', source: 'api' },
  );
  expect(a.state).toBe('delayed');
  const later = Date.now() + 4_000;
  await rescheduleJob(ctx, b.id, new Date(later).toISOString(), 'ops');
  await cancelUser(ctx, 'cancelled@contoso.com', 'ops');

  // Nothing is called while the leave moment is ahead.
  await new Promise((r) => setTimeout(r, 1_000));
  expect(callsFor('due@contoso.com')).toEqual([]);

  const [outA, outB] = await waitForOutcomes(ctx, [a.id, b.id], 60_000);
  expect(outA?.record?.outcome).toBe('retired');
  expect(outB?.record?.outcome).toBe('retired');
  const [callA] = callsFor('due@contoso.com');
  const [callB] = callsFor('moved@contoso.com');
  expect(callA).toBeGreaterThanOrEqual(due.at);
  expect(callA).toBeLessThan(due.at + 15_000);
  expect(callB).toBeGreaterThanOrEqual(later);
  expect(callB).toBeLessThan(later + 15_000);
  // Give the cancelled one time it would have needed, then check it never reached Graph.
  await new Promise((r) => setTimeout(r, 500));
  expect(callsFor('cancelled@contoso.com')).toEqual([]);
});

it('fans a scheduled dry-run sweep out into jobs that end as dry_run without calling Graph', {
  timeout: 120_000,
}, async () => {
  const csv = join(dir, 'sweep.csv');
  writeFileSync(csv, 'user\nsweep1@contoso.com\nsweep2@contoso.com\n');
  await addSchedule(ctx, {
    name: 'e2e',
    cron: '* * * * * *',
    tz: 'UTC',
    source: { type: 'csv', path: csv },
    dryRun: true,
  });
  const sweep = await waitFor(
    async () =>
      (await readAudit(ctx, { count: 1000 })).find((e) => e.type === 'sweep' && e.details?.new === 2),
    { timeoutMs: 60_000, what: 'a sweep that enqueued both users' },
  );
  expect(sweep.actor).toBe('schedule:e2e');
  await removeSchedule(ctx, 'e2e');
  const ids = (await readAudit(ctx, { count: 1000 }))
    .filter((e) => e.type === 'requested' && e.actor === 'schedule:e2e')
    .map((e) => e.jobId as string);
  expect(ids).toHaveLength(2);
  const outcomes = await waitForOutcomes(ctx, ids, 60_000);
  for (const o of outcomes) expect(o.record).toMatchObject({ outcome: 'dry_run', dryRun: true });
  expect(callsFor('sweep1@contoso.com')).toEqual([]);
  expect(callsFor('sweep2@contoso.com')).toEqual([]);
});
