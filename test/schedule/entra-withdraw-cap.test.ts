// The cap on mass withdrawals of an `entra` schedule, against a real Redis and the simulator's user
// directory over HTTP: an HR sync that clears every leave date cancels nothing in one tick (the
// schedule fails with mass_withdrawal, the sweep audit says how many), while new leavers and moved
// dates still go through; `offboard schedule run --allow-mass-withdrawal --as NAME` (the real CLI)
// then withdraws them, audited with the operator. Also: cancelJob's reason, and its callers unchanged.
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { createTokenProvider } from '../../src/entra/provider.js';
import { cancelJob } from '../../src/intake/cancel.js';
import { enqueue } from '../../src/intake/enqueue.js';
import type { AuditRecord, RetireJobData, TokenProvider } from '../../src/interfaces.js';
import { createLogger } from '../../src/log.js';
import { createReadPacer } from '../../src/pacing/read-pacer.js';
import { closeQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { validateSchedule } from '../../src/schedule/definition.js';
import { addSchedule, openSweepQueue } from '../../src/schedule/schedules.js';
import { runSweep } from '../../src/schedule/sweep.js';
import { readSweepStatuses, scheduleHealth } from '../../src/schedule/sweep-status.js';
import type { SweepSummary } from '../../src/schedule/sweep-summary.js';
import { type SweepWorkerHandle, startSweepWorker } from '../../src/schedule/worker.js';
import { stableGuid } from '../../src/sim/tokens.js';
import { runCli } from '../cli/run-cli.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import { openContext, uniquePrefix, workerConfig, workerEnv } from '../helpers/worker.js';

const DAY = 86_400_000;
const PENDING = 60;
let redis: TestRedis;
let sim: TestSimulator;
const contexts: QueueContext[] = [];
const providers: TokenProvider[] = [];
let worker: SweepWorkerHandle | undefined;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator();
  sim.control({ users: { clear: true } });
});
afterAll(async () => {
  await worker?.close().catch(() => {});
  for (const p of providers) await p.close?.();
  for (const c of contexts) await closeQueueContext(c).catch(() => {});
  await sim?.close();
  await redis?.stop();
});

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const idOf = (upn: string) => stableGuid(`user:${upn.toLowerCase()}`);
const leaver = (i: number) => `leaver${String(i).padStart(2, '0')}@contoso.com`;

function setLeave(entries: [string, number | null][]): void {
  sim.control({
    users: {
      upsert: entries.map(([upn, at]) => ({
        userPrincipalName: upn,
        employeeLeaveDateTime: at === null ? null : iso(at),
      })),
    },
  });
}

function open(config: Config): QueueContext {
  const ctx = openContext(config);
  contexts.push(ctx);
  return ctx;
}

async function pending(ctx: QueueContext): Promise<Job<RetireJobData>[]> {
  return (await ctx.retire.getJobs(['delayed', 'waiting'])) as Job<RetireJobData>[];
}

const audit = (ctx: QueueContext): Promise<AuditRecord[]> =>
  readAudit(ctx, { reverse: false, count: 10_000 });

/** One tick through the real sweep worker (what `offboard worker` runs at each cron tick). */
async function tick(ctx: QueueContext, def: ReturnType<typeof validateSchedule>): Promise<SweepSummary> {
  const q = openSweepQueue(ctx);
  try {
    const job = await q.add('sweep', def, { jobId: `cap-tick-${Date.now()}`, attempts: 1 });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const j = (await q.getJob(job.id as string)) as Job | undefined;
      if (j?.finishedOn) {
        if (j.failedReason) throw new Error(`tick failed: ${j.failedReason}`);
        return j.returnvalue as SweepSummary;
      }
      if (Date.now() > deadline) throw new Error('tick did not finish');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await q.close();
  }
}

describe('mass withdrawal cap of an entra schedule', () => {
  it(`withdraws none of ${PENDING} cleared leavers over GUARD_THRESHOLD, fails the schedule, and withdraws them on an audited override`, {
    timeout: 300_000,
  }, async () => {
    const prefix = uniquePrefix('cap');
    const def = validateSchedule({
      name: 'leavers',
      cron: '0 0 1 1 *',
      tz: 'Europe/Berlin',
      source: { type: 'entra', lookaheadMs: 14 * DAY, reconcile: true },
    });
    const now = Date.now();
    const mover = 'mo.mover@contoso.com';
    setLeave([
      ...Array.from(
        { length: PENDING },
        (_, i) => [leaver(i), now + (1 + (i % 12)) * DAY] as [string, number],
      ),
      [mover, now + 3 * DAY],
    ]);

    // Setup: the leavers arrive in one tick of a permissive guard (same Redis prefix).
    const setupConfig = workerConfig(redis, sim, prefix, {
      GUARD_THRESHOLD: '1000',
      GRAPH_READ_RATE_LIMIT: '1000/1s',
    });
    const setup = open(setupConfig);
    await addSchedule(setup, def, { actor: 'ops' });
    const setupTokens = createTokenProvider(setupConfig, { redis: setup.redis });
    providers.push(setupTokens);
    const first = await runSweep(setup, def, {
      entra: {
        graph: {
          baseUrl: setupConfig.graph.baseUrl,
          tokenProvider: setupTokens,
          pacer: createReadPacer({ redis: setup.redis, prefix: setup.prefix, config: setupConfig }),
          timeoutMs: setupConfig.graph.timeoutMs,
        },
      },
    });
    expect(first).toMatchObject({ new: PENDING + 1, withdrawn: 0, held: null });
    expect(await pending(setup)).toHaveLength(PENDING + 1);

    // The real guard: 50. GUARD_WINDOW 1s so the setup's admissions no longer count for new leavers.
    const capEnv = { GUARD_THRESHOLD: '50', GUARD_WINDOW: '1s', GRAPH_READ_RATE_LIMIT: '1000/1s' };
    const config = workerConfig(redis, sim, prefix, capEnv);
    const ctx = open(config);
    const tokens = createTokenProvider(config, { redis: ctx.redis });
    providers.push(tokens);
    worker = startSweepWorker(ctx, { logger: createLogger({ level: 'silent' }), tokenProvider: tokens });
    await worker.worker.waitUntilReady();

    // The HR sync bug: every leave date cleared. Meanwhile one date moves and one new leaver appears.
    const newcomer = 'nia.new@contoso.com';
    setLeave([
      ...Array.from({ length: PENDING }, (_, i) => [leaver(i), null] as [string, null]),
      [mover, now + 5 * DAY],
      [newcomer, now + 2 * DAY],
    ]);
    await new Promise((r) => setTimeout(r, 1100)); // the 1 s guard window passes
    const blocked = await tick(ctx, def);
    expect(blocked).toMatchObject({
      withdrawn: 0,
      rescheduled: 1,
      new: 1,
      massWithdrawal: { count: PENDING, threshold: 50, blocked: true },
    });
    const afterBlocked = await pending(ctx);
    expect(afterBlocked).toHaveLength(PENDING + 2);
    expect(afterBlocked.find((j) => j.data.user === idOf(mover))?.data.effectiveAt).toBe(
      new Date(Date.parse(iso(now + 5 * DAY))).toISOString(),
    );
    let trail = await audit(ctx);
    expect(trail.filter((x) => x.type === 'cancelled')).toEqual([]);
    const sweepEntry = trail.filter((x) => x.type === 'sweep').at(-1);
    expect(sweepEntry).toMatchObject({
      actor: 'schedule:leavers',
      details: { withdrawn: 0, massWithdrawal: { count: PENDING, threshold: 50, blocked: true } },
    });

    // Failing with the reason everywhere the status is read.
    const [status] = await readSweepStatuses(ctx.redis, ctx.prefix);
    expect(status?.lastFailureMs).toBeGreaterThan(status?.lastSuccessMs ?? 0);
    expect(status?.lastError).toMatch(/^mass_withdrawal: 60 pending leavers would be withdrawn/);
    expect((await scheduleHealth(ctx)).leavers).toMatchObject({
      state: 'failing',
      lastFailureReason: expect.stringMatching(/^mass_withdrawal/),
    });
    const env = workerEnv(redis, sim, prefix, capEnv);
    const list = await runCli(['schedule', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/FAILING since .*: mass_withdrawal: 60 pending leavers would be withdrawn/);

    // The operator confirms the withdrawals are real: one tick through, audited with the actor.
    const run = await runCli(
      ['schedule', 'run', 'leavers', '--allow-mass-withdrawal', '--as', 'alice', '--json'],
      env,
      { timeoutMs: 120_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      withdrawn: PENDING,
      massWithdrawal: { count: PENDING, threshold: 50, blocked: false, allowedBy: 'alice' },
    });
    const left = await pending(ctx);
    expect(left.map((j) => j.data.user).sort()).toEqual([idOf(mover), idOf(newcomer)].sort());
    trail = await audit(ctx);
    const cancelled = trail.filter((x) => x.type === 'cancelled');
    expect(cancelled).toHaveLength(PENDING);
    for (const c of cancelled) {
      expect(c).toMatchObject({
        actor: 'schedule:leavers',
        details: { reason: 'source_withdrawn', leaveAt: null, schedule: 'leavers', allowedBy: 'alice' },
      });
    }
    const override = trail.find((x) => x.type === 'sweep' && x.actor === 'alice');
    expect(override).toMatchObject({
      details: { schedule: 'leavers', allowMassWithdrawal: true, withdrawals: PENDING, threshold: 50 },
    });
    // The override is in the trail before the first cancellation it allowed.
    expect(trail.indexOf(override as AuditRecord)).toBeLessThan(trail.indexOf(cancelled[0] as AuditRecord));
    const [healthy] = await readSweepStatuses(ctx.redis, ctx.prefix);
    expect(healthy?.lastSuccessMs).toBeGreaterThan(healthy?.lastFailureMs ?? 0);
    expect((await scheduleHealth(ctx)).leavers?.state).toBe('healthy');
  });

  it('a few withdrawals (not more than the threshold) go through without an override', {
    timeout: 120_000,
  }, async () => {
    const config = workerConfig(redis, sim, uniquePrefix('cap'), {
      GUARD_THRESHOLD: '2',
      GRAPH_READ_RATE_LIMIT: '1000/1s',
    });
    const ctx = open(config);
    const tokens = createTokenProvider(config, { redis: ctx.redis });
    providers.push(tokens);
    const entra = {
      graph: {
        baseUrl: config.graph.baseUrl,
        tokenProvider: tokens,
        pacer: createReadPacer({ redis: ctx.redis, prefix: ctx.prefix, config }),
        timeoutMs: config.graph.timeoutMs,
      },
    };
    const def = validateSchedule({
      name: 'few',
      cron: '0 0 1 1 *',
      source: { type: 'entra', lookaheadMs: 14 * DAY, reconcile: true },
    });
    await addSchedule(ctx, def, { actor: 'ops' });
    sim.control({ users: { clear: true } });
    const now = Date.now();
    setLeave([
      ['a.few@contoso.com', now + DAY],
      ['b.few@contoso.com', now + 2 * DAY],
    ]);
    expect(await runSweep(ctx, def, { entra })).toMatchObject({ new: 2 });
    setLeave([
      ['a.few@contoso.com', null],
      ['b.few@contoso.com', null],
    ]);
    const s = await runSweep(ctx, def, { entra });
    expect(s.withdrawn).toBe(2);
    expect(s.massWithdrawal).toBeUndefined();
    expect(await pending(ctx)).toEqual([]);
    expect((await scheduleHealth(ctx)).few?.state).toBe('healthy');
  });
});

describe('cancelJob reason', () => {
  it('records a reason and context when given, and exactly what it did before when not', {
    timeout: 60_000,
  }, async () => {
    const ctx = open(workerConfig(redis, sim, uniquePrefix('cancel')));
    const at = new Date(Date.now() + 5 * DAY).toISOString();
    const a = await enqueue(
      ctx,
      { user: 'op.cancel@contoso.com', effectiveAt: at },
      { requestedBy: 'hr', source: 'api' },
    );
    const b = await enqueue(
      ctx,
      { user: 'src.cancel@contoso.com', effectiveAt: at },
      { requestedBy: 'hr', source: 'api' },
    );
    await cancelJob(ctx, a.id, 'ops', 'changed their mind');
    await cancelJob(ctx, b.id, 'schedule:x', undefined, {
      reason: 'source_withdrawn',
      details: { leaveAt: null, previousState: 'forged' },
    });
    const cancelled = (await audit(ctx)).filter((x) => x.type === 'cancelled');
    expect(cancelled.find((x) => x.jobId === a.id)?.details).toEqual({
      previousState: 'delayed',
      note: 'changed their mind',
      effectiveAt: at,
    });
    // Context cannot overwrite what cancelJob itself records.
    expect(cancelled.find((x) => x.jobId === b.id)?.details).toEqual({
      reason: 'source_withdrawn',
      leaveAt: null,
      previousState: 'delayed',
      effectiveAt: at,
    });
  });
});
