// The guard for wipes and deletes (issue 21 item 6), with real Redis and real BullMQ jobs: a worker
// whose step after planning is holdIfOverWipeThreshold (the lead wires the same call into the retire
// worker). Devices, not leavers, are counted against GUARD_WIPE_THRESHOLD within GUARD_WINDOW; past
// it the leaver waits in a `wipe` batch whose items show devices × actions; approving (through the
// API, two-person rule) enqueues a job that is admitted without counting again; rejecting (through
// the CLI) enqueues nothing. Dry runs are never counted.
import { type Job, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { planDevices } from '../../src/device-policy/plan.js';
import { submitOne } from '../../src/front-door/front-door.js';
import { getBatch, listBatchItems } from '../../src/guard/batches.js';
import { HeldByGuardError } from '../../src/guard/due.js';
import { holdIfOverWipeThreshold, wipeWindowKey } from '../../src/guard/wipe-hold.js';
import type { ManagedDevice, RetireJobData } from '../../src/interfaces.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { RETIRE_QUEUE } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { createRedis } from '../../src/redis/connection.js';
import { apiConfig, bearer, KEYS, memoryLogger, pollUntil } from '../api/helpers.js';
import { runCli } from '../cli/run-cli.js';
import { TEST_POLICY } from '../helpers/device-policy.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

/** Each leaver: `laptops` company Windows laptops (wiped under `standard`) and one personal phone. */
function devicesOf(user: string): ManagedDevice[] {
  const laptops = Number(/\+(\d)@/.exec(user)?.[1] ?? 2);
  const out: ManagedDevice[] = [];
  for (let i = 0; i < laptops; i++) {
    out.push({
      id: `${user}-laptop-${i}`,
      deviceName: `LAPTOP-${i}`,
      operatingSystem: 'Windows',
      managedDeviceOwnerType: 'company',
      serialNumber: `SN-${i}`,
    });
  }
  out.push({
    id: `${user}-phone`,
    deviceName: 'iPhone',
    operatingSystem: 'iOS',
    managedDeviceOwnerType: 'personal',
  });
  return out;
}

let redis: TestRedis;
let ctx: QueueContext;
let worker: Worker<RetireJobData>;
let app: Awaited<ReturnType<typeof buildApp>>;
const env: Record<string, string> = {};

beforeAll(async () => {
  redis = await startRedis();
  const config = apiConfig(redis, { GUARD_WINDOW: '1h', GUARD_TWO_PERSON: 'true' });
  config.devicePolicy = TEST_POLICY;
  config.guard.wipeThreshold = 5;
  ctx = createQueueContext(config);
  app = await buildApp(config, { logger: memoryLogger('warn').logger });
  await app.ready();
  const connection = createRedis(config.redis, { blocking: true });
  // The retire worker's step after planning, before any write: plan, then ask the wipe guard.
  worker = new Worker<RetireJobData>(
    RETIRE_QUEUE,
    async (job: Job<RetireJobData>, token?: string) => {
      const plans = planDevices(TEST_POLICY, job.data.devicePolicy, devicesOf(job.data.user));
      await holdIfOverWipeThreshold(ctx, job, job.data, plans, token);
      return { admitted: plans.length };
    },
    { connection, prefix: config.redis.prefix, concurrency: 1 },
  );
  Object.assign(env, {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    GUARD_WINDOW: '1h',
    GUARD_TWO_PERSON: 'true',
  });
});

afterAll(async () => {
  await worker?.close();
  await app?.close();
  if (ctx) await closeQueueContext(ctx);
  await redis?.stop();
});

async function submit(user: string, dryRun = false) {
  const out = await submitOne(
    ctx,
    { user, ...(dryRun ? { dryRun } : {}) },
    { requestedBy: 'hr-system', source: 'api' },
  );
  if (out.held) throw new Error('held at admission');
  return out.result.id;
}

async function settled(id: string) {
  return pollUntil(
    async () => {
      const job = await ctx.retire.getJob(id);
      return { state: job ? await job.getState() : 'gone', job };
    },
    (s) => s.state === 'completed' || s.state === 'failed',
    20_000,
  );
}

describe('holdIfOverWipeThreshold', () => {
  let batchId = '';

  it('admits wipes up to GUARD_WIPE_THRESHOLD devices, then holds the leaver with devices × actions', async () => {
    const a = await settled(await submit('a+2@contoso.com'));
    const b = await settled(await submit('b+2@contoso.com'));
    expect([a.state, b.state]).toEqual(['completed', 'completed']);
    expect(await ctx.redis.zcard(wipeWindowKey(ctx.prefix))).toBe(4);
    // A retry of an admitted job counts its devices once.
    const c = await settled(await submit('c+2@contoso.com'));
    expect(c.state).toBe('failed');
    expect(c.job?.failedReason).toContain('GUARD_WIPE_THRESHOLD');
    expect(await ctx.redis.zcard(wipeWindowKey(ctx.prefix))).toBe(4);
    batchId = /batch (\S+)$/.exec(c.job?.failedReason ?? '')?.[1] ?? '';
    const batch = await getBatch(ctx, batchId);
    expect(batch).toMatchObject({
      state: 'held',
      kind: 'wipe',
      devices: 2,
      count: 1,
      submittedBy: 'hr-system',
    });
    const [item] = await listBatchItems(ctx, batchId);
    expect(item?.r).toMatchObject({ user: 'c+2@contoso.com', devicePolicy: 'standard' });
    expect(item?.devices?.map((d) => [d.deviceName, d.rule, d.actions.map((s) => s.action)])).toEqual([
      ['LAPTOP-0', 2, ['wipe']],
      ['LAPTOP-1', 2, ['wipe']],
      ['iPhone', 1, ['retire']],
    ]);
    const held = (await readAudit(ctx, { count: 100 })).find((e) => e.type === 'held');
    // A new wipe batch is audited by holdStaging under its submitter, naming the held job.
    expect(held).toMatchObject({ actor: 'hr-system', jobId: c.job?.id });
    expect(held?.details).toMatchObject({
      heldBecause: 'wipe',
      devices: 2,
      devicesInWindow: 4,
      wipeThreshold: 5,
    });
  });

  it('gathers further held leavers in the same wipe batch (new version) and never counts dry runs', async () => {
    const dry = await settled(await submit('dry+3@contoso.com', true));
    expect(dry.state).toBe('completed');
    const d = await settled(await submit('d+2@contoso.com'));
    expect(d.state).toBe('failed');
    expect(d.job?.failedReason).toContain(batchId);
    expect(await getBatch(ctx, batchId)).toMatchObject({ count: 2, devices: 4, version: 2 });
    // A leaver with nothing to wipe or delete passes whatever the count.
    expect((await settled(await submit('e+0@contoso.com'))).state).toBe('completed');
  });

  it('shows devices × actions on the API items route and in `batches show`', async () => {
    const res = await app.inject({ url: `/v1/batches/${batchId}/items`, headers: bearer(KEYS.operator) });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as {
      request: { user: string };
      devices: { actions: { action: string }[] }[];
    }[];
    expect(items.map((i) => [i.request.user, i.devices.length])).toEqual([
      ['c+2@contoso.com', 3],
      ['d+2@contoso.com', 3],
    ]);
    const shown = await runCli(['batches', 'show', batchId], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('wipe approval: 4 devices to wipe or delete');
    expect(shown.stdout).toMatch(
      /LAPTOP-0 \(Windows, company\)\s+standard#2: wipe \(keepEnrollmentData=false, keepUserData=false\)/,
    );
    expect(shown.stdout).toMatch(/iPhone \(iOS, personal\)\s+standard#1: retire/);
  });

  it('approving (API, another person) runs the leavers without counting their approved devices again', async () => {
    const submitterTries = await app.inject({
      method: 'POST',
      url: `/v1/batches/${batchId}/approve`,
      headers: { ...bearer(KEYS.operator), 'if-match': '"2"' },
    });
    // The submitter is the producer key; an operator approves.
    expect(submitterTries.statusCode).toBe(200);
    const jobs = await pollUntil(
      async () => (await ctx.retire.getJobs(['completed'])).filter((j) => j.data.batchId === batchId),
      (js) => js.length === 2,
      20_000,
    );
    expect(jobs.map((j) => j.data.user).sort()).toEqual(['c+2@contoso.com', 'd+2@contoso.com']);
    expect(jobs.every((j) => j.data.devicePolicy === 'standard')).toBe(true);
    expect(await ctx.redis.zcard(wipeWindowKey(ctx.prefix))).toBe(4);
    // Still at the limit for anyone else.
    const f = await settled(await submit('f+2@contoso.com'));
    expect(f.state).toBe('failed');
    expect(f.job?.failedReason).not.toContain(batchId);
  });

  it('rejecting (CLI) ends the leaver: nothing enqueued, audited', async () => {
    const f = (await ctx.retire.getJobs(['failed'])).find((j) => j.data.user === 'f+2@contoso.com');
    const id = /batch (\S+)$/.exec(f?.failedReason ?? '')?.[1] ?? '';
    const b = await getBatch(ctx, id);
    expect(b).toMatchObject({ kind: 'wipe', state: 'held', submittedBy: 'hr-system' });
    const out = await runCli(
      [
        'batches',
        'reject',
        id,
        '--batch-version',
        String(b.version),
        '--reason',
        'not leaving',
        '--as',
        'ops-bob',
      ],
      env,
    );
    expect(out.code).toBe(0);
    expect((await getBatch(ctx, id)).state).toBe('rejected');
    const rejected = (await readAudit(ctx, { count: 200 })).find((e) => e.type === 'rejected');
    expect(rejected).toMatchObject({ actor: 'ops-bob', details: { batchId: id, reason: 'not leaving' } });
    const all = await ctx.retire.getJobs(['waiting', 'delayed', 'active', 'completed']);
    expect(all.some((j) => j.data.user === 'f+2@contoso.com')).toBe(false);
  });

  it('is a HeldByGuardError, so the worker ends the job as held (never a dead letter)', async () => {
    const failed = (await ctx.retire.getJobs(['failed'])).filter((j) =>
      j.failedReason.includes('GUARD_WIPE'),
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(await ctx.deadLetter.count()).toBe(0);
    expect(new HeldByGuardError('x')).toBeInstanceOf(Error);
  });
});
