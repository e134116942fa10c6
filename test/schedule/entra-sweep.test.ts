// The `entra` sweep source end to end: a real Redis, the simulator's user directory over HTTP (MSAL
// token, read pacer), and the real sweep worker processing each tick. New leavers become delayed jobs,
// moved dates reschedule, cleared dates cancel (source_withdrawn), other sources are never touched,
// a failed or partial read changes nothing, the guard holds a spike, and a restart catches up.
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { createTokenProvider } from '../../src/entra/provider.js';
import { listBatches } from '../../src/guard/batches.js';
import { enqueue } from '../../src/intake/enqueue.js';
import type { AuditRecord, RetireJobData, TokenProvider } from '../../src/interfaces.js';
import { createLogger } from '../../src/log.js';
import { closeQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { validateSchedule } from '../../src/schedule/definition.js';
import { CATCH_UP_CAP_MS, leaveWindow } from '../../src/schedule/entra-source.js';
import { addSchedule, openSweepQueue } from '../../src/schedule/schedules.js';
import { readSweepStatuses } from '../../src/schedule/sweep-status.js';
import type { SweepSummary } from '../../src/schedule/sweep-summary.js';
import { type SweepWorkerHandle, startSweepWorker } from '../../src/schedule/worker.js';
import { PERMISSIONS, stableGuid } from '../../src/sim/tokens.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import { openContext, uniquePrefix, workerConfig } from '../helpers/worker.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
let redis: TestRedis;
let sim: TestSimulator;

interface Env {
  config: Config;
  ctx: QueueContext;
  tokens: TokenProvider;
  worker: SweepWorkerHandle;
}
const envs: Env[] = [];

async function env(overrides: Record<string, string> = {}, pageSize?: number): Promise<Env> {
  const config = workerConfig(redis, sim, uniquePrefix('entra'), {
    GUARD_THRESHOLD: '1000',
    GRAPH_READ_RATE_LIMIT: '1000/1s',
    ...overrides,
  });
  const ctx = openContext(config);
  const tokens = createTokenProvider(config, { redis: ctx.redis });
  const worker = startSweepWorker(ctx, {
    logger: createLogger({ level: 'silent' }),
    tokenProvider: tokens,
    ...(pageSize ? { entraPageSize: pageSize } : {}),
  });
  await worker.worker.waitUntilReady();
  const e = { config, ctx, tokens, worker };
  envs.push(e);
  return e;
}

async function stopWorker(e: Env): Promise<void> {
  await e.worker.close();
}

let ticks = 0;
/** Runs one tick of the schedule through the real sweep worker; resolves with its summary or failure. */
async function tick(
  e: Env,
  def: ReturnType<typeof validateSchedule>,
): Promise<{ ok: true; summary: SweepSummary } | { ok: false; error: string }> {
  const q = openSweepQueue(e.ctx);
  try {
    const job = await q.add('sweep', def, { jobId: `test-tick-${++ticks}`, attempts: 1 });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const j = (await q.getJob(job.id as string)) as Job | undefined;
      if (j?.finishedOn) {
        return j.failedReason
          ? { ok: false, error: j.failedReason }
          : { ok: true, summary: j.returnvalue as SweepSummary };
      }
      if (Date.now() > deadline) throw new Error('tick did not finish');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await q.close();
  }
}

async function ok(e: Env, def: ReturnType<typeof validateSchedule>): Promise<SweepSummary> {
  const r = await tick(e, def);
  if (!r.ok) throw new Error(`tick failed: ${r.error}`);
  return r.summary;
}

function schedule(name: string, src: { lookaheadMs?: number; offsetMs?: number; reconcile?: boolean } = {}) {
  return validateSchedule({
    name,
    cron: '0 0 1 1 *',
    tz: 'Europe/Berlin',
    source: {
      type: 'entra',
      lookaheadMs: src.lookaheadMs ?? 14 * DAY,
      reconcile: src.reconcile ?? true,
      ...(src.offsetMs ? { offsetMs: src.offsetMs } : {}),
    },
  });
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const idOf = (upn: string) => stableGuid(`user:${upn.toLowerCase()}`);

function setLeave(upn: string, at: number | null): void {
  sim.control({
    users: { upsert: [{ userPrincipalName: upn, employeeLeaveDateTime: at === null ? null : iso(at) }] },
  });
}

async function pendingJobs(ctx: QueueContext): Promise<Job<RetireJobData>[]> {
  return (await ctx.retire.getJobs(['delayed', 'waiting'])) as Job<RetireJobData>[];
}

async function audit(ctx: QueueContext): Promise<AuditRecord[]> {
  return readAudit(ctx, { reverse: false, count: 10_000 });
}

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator();
  sim.control({ users: { clear: true } });
});
afterAll(async () => {
  for (const e of envs) {
    await e.worker.close().catch(() => {});
    await e.tokens.close?.();
    await closeQueueContext(e.ctx).catch(() => {});
  }
  await sim.close();
  await redis.stop();
});

describe('entra sweep window', () => {
  it('starts at the last complete read, now on the first tick, and catches up at most 7 days', () => {
    const now = Date.parse('2026-12-01T10:00:00.400Z');
    expect(leaveWindow(null, now, DAY)).toEqual({
      fromMs: Date.parse('2026-12-01T10:00:00Z'),
      toMs: Date.parse('2026-12-02T10:00:01Z'),
    });
    expect(leaveWindow(now - HOUR, now, DAY).fromMs).toBe(Date.parse('2026-12-01T09:00:00Z'));
    expect(leaveWindow(now - 30 * DAY, now, DAY).fromMs).toBe(
      Math.floor((now - CATCH_UP_CAP_MS) / 1000) * 1000,
    );
  });

  it('validates lookahead (1h..90d) and offset (-7d..7d)', () => {
    expect(() => schedule('x', { lookaheadMs: 91 * DAY })).toThrow(/lookahead: between 1h and 90d/);
    expect(() => schedule('x', { lookaheadMs: 59 * 60_000 })).toThrow(/lookahead/);
    expect(() => schedule('x', { offsetMs: -8 * DAY })).toThrow(/offset: between -7d and 7d/);
    expect(schedule('x', { offsetMs: -2 * HOUR }).source).toEqual({
      type: 'entra',
      lookaheadMs: 14 * DAY,
      offsetMs: -2 * HOUR,
      reconcile: true,
    });
  });
});

describe('entra sweep through the sweep worker', () => {
  it('enqueues new leavers at leave date + offset, follows a moved date, cancels a cleared one and leaves other sources alone', {
    timeout: 120_000,
  }, async () => {
    sim.control({ users: { clear: true } });
    const e = await env();
    const def = schedule('leavers', { offsetMs: 2 * HOUR });
    await addSchedule(e.ctx, def, { actor: 'ops' });
    const now = Date.now();
    const a = 'ada.leaver@contoso.com';
    const b = 'bob.mover@contoso.com';
    const c = 'cy.withdrawn@contoso.com';
    const d = 'dee.far@contoso.com';
    const api = 'api.only@contoso.com';
    setLeave(a, now + 3 * DAY);
    setLeave(b, now + 5 * DAY);
    setLeave(c, now + 6 * DAY);
    setLeave(d, now + 7 * DAY);
    setLeave('later.than.lookahead@contoso.com', now + 30 * DAY);
    setLeave(api, now + 4 * DAY);
    // An API request for a user Entra also lists, and one for a user whose date is then cleared.
    const apiJob = await enqueue(
      e.ctx,
      { user: idOf(api), effectiveAt: iso(now + 4 * DAY) },
      { requestedBy: 'hr-key', source: 'api' },
    );

    const first = await ok(e, def);
    expect(first).toMatchObject({
      schedule: 'leavers',
      source: 'entra',
      found: 5,
      new: 4,
      duplicate: 1,
      rescheduled: 0,
      withdrawn: 0,
      held: null,
    });
    const jobs = await pendingJobs(e.ctx);
    const byUser = new Map(jobs.map((j) => [j.data.user, j]));
    for (const [upn, leave] of [
      [a, now + 3 * DAY],
      [b, now + 5 * DAY],
      [c, now + 6 * DAY],
      [d, now + 7 * DAY],
    ] as const) {
      const job = byUser.get(idOf(upn));
      expect(job?.data, upn).toMatchObject({
        requestedBy: 'schedule:leavers',
        source: 'schedule',
        dryRun: false,
      });
      expect(Date.parse(job?.data.effectiveAt ?? ''), upn).toBe(Math.floor(leave / 1000) * 1000 + 2 * HOUR);
      expect(await job?.getState(), upn).toBe('delayed');
      expect(job?.data.reason).toContain(upn);
    }
    expect(byUser.get(idOf(api))?.data.requestedBy).toBe('hr-key');

    // HR moves b, clears c, moves d beyond the lookahead, clears the API user's date.
    setLeave(b, now + 9 * DAY);
    setLeave(c, null);
    setLeave(d, now + 40 * DAY);
    setLeave(api, null);
    const second = await ok(e, def);
    expect(second).toMatchObject({ found: 2, new: 0, rescheduled: 1, withdrawn: 2, duplicate: 1 });
    const after = new Map((await pendingJobs(e.ctx)).map((j) => [j.data.user, j]));
    expect(Date.parse(after.get(idOf(b))?.data.effectiveAt ?? '')).toBe(
      Math.floor((now + 9 * DAY) / 1000) * 1000 + 2 * HOUR,
    );
    expect(after.has(idOf(c))).toBe(false);
    expect(after.has(idOf(d))).toBe(false);
    expect(after.get(idOf(api))?.id).toBe(apiJob.id); // another source: never touched
    expect(after.has(idOf(a))).toBe(true);

    const trail = await audit(e.ctx);
    const cancelled = trail.filter((x) => x.type === 'cancelled');
    expect(cancelled.map((x) => x.user).sort()).toEqual([idOf(c), idOf(d)].sort());
    for (const x of cancelled)
      expect(x).toMatchObject({ actor: 'schedule:leavers', details: { reason: 'source_withdrawn' } });
    expect(cancelled.find((x) => x.user === idOf(d))?.details?.leaveAt).toBe(
      new Date(Math.floor((now + 40 * DAY) / 1000) * 1000).toISOString(),
    );
    const moved = trail.filter((x) => x.type === 'rescheduled');
    expect(moved).toHaveLength(1);
    expect(moved[0]).toMatchObject({
      user: idOf(b),
      actor: 'schedule:leavers',
      details: { cause: 'source_moved' },
    });
    const sweeps = trail.filter((x) => x.type === 'sweep' && x.details?.schedule === 'leavers');
    expect(sweeps.map((x) => x.details?.withdrawn)).toEqual([0, 2]);

    // The schedule's status carries the last summary; a third tick finds nothing new to do.
    const [status] = await readSweepStatuses(e.ctx.redis, e.ctx.prefix);
    expect(status).toMatchObject({ schedule: 'leavers', items: { rescheduled: 1, withdrawn: 2 } });
    expect(await ok(e, def)).toMatchObject({ new: 0, rescheduled: 0, withdrawn: 0 });
  });

  it('never withdraws a job someone else also asked for, and leaves everything alone with --no-reconcile', {
    timeout: 120_000,
  }, async () => {
    sim.control({ users: { clear: true } });
    const e = await env();
    const now = Date.now();
    const shared = 'shared.request@contoso.com';
    setLeave(shared, now + 2 * DAY);
    const recon = schedule('recon');
    const plain = schedule('plain', { reconcile: false });
    await ok(e, recon);
    // The API asks for the same leaver: folded into the schedule's job as a duplicate.
    const dup = await enqueue(
      e.ctx,
      { user: idOf(shared), effectiveAt: iso(now + 3 * DAY) },
      { requestedBy: 'hr-key', source: 'api' },
    );
    expect(dup.duplicate).toBe(true);
    setLeave(shared, null);
    const s = await ok(e, recon);
    expect(s.withdrawn).toBe(0);
    expect((await pendingJobs(e.ctx)).map((j) => j.data.user)).toContain(idOf(shared));

    sim.control({ users: { clear: true } });
    const e2 = await env();
    const solo = 'solo.norecon@contoso.com';
    setLeave(solo, now + 2 * DAY);
    expect((await ok(e2, plain)).new).toBe(1);
    setLeave(solo, null);
    expect(await ok(e2, plain)).toMatchObject({ withdrawn: 0, rescheduled: 0 });
    expect((await pendingJobs(e2.ctx)).map((j) => j.data.user)).toEqual([idOf(solo)]);
  });

  it('changes nothing on a 403 or a failing second page and marks the schedule failing with the reason', {
    timeout: 120_000,
  }, async () => {
    sim.control({ users: { clear: true } });
    const e = await env({}, 2);
    const def = schedule('failing');
    const now = Date.now();
    const upns = ['p1@contoso.com', 'p2@contoso.com', 'p3@contoso.com', 'p4@contoso.com', 'p5@contoso.com'];
    for (const [i, upn] of upns.entries()) setLeave(upn, now + (i + 1) * DAY);
    expect((await ok(e, def)).new).toBe(5);
    const before = (await pendingJobs(e.ctx)).map((j) => `${j.id}:${j.data.effectiveAt}`).sort();
    const auditBefore = (await audit(e.ctx)).filter((x) => x.type !== 'sweep').length;

    // Withdraw one, move one, add one: none of it may happen while the read fails.
    setLeave(upns[0] as string, null);
    setLeave(upns[1] as string, now + 10 * DAY);
    setLeave('p6.new@contoso.com', now + 2 * DAY);

    sim.control({ permissions: { deny: [PERMISSIONS.readLifecycleInfo] } });
    const denied = await tick(e, def);
    expect(denied.ok).toBe(false);
    expect(!denied.ok && denied.error).toMatch(/HTTP 403.*User-LifeCycleInfo\.Read\.All/);
    sim.control({ permissions: { grant: [PERMISSIONS.readLifecycleInfo] } });

    sim.control({ usersFailPage: 2 });
    const partial = await tick(e, def);
    expect(!partial.ok && partial.error).toMatch(/page 2: HTTP 503/);

    expect((await pendingJobs(e.ctx)).map((j) => `${j.id}:${j.data.effectiveAt}`).sort()).toEqual(before);
    expect((await audit(e.ctx)).filter((x) => x.type !== 'sweep').length).toBe(auditBefore);
    const [st] = await readSweepStatuses(e.ctx.redis, e.ctx.prefix);
    expect(st?.lastFailureMs).toBeGreaterThan(st?.lastSuccessMs ?? 0);
    expect(st?.lastError).toMatch(/page 2: HTTP 503/);
    const failed = (await audit(e.ctx)).filter((x) => x.type === 'sweep' && x.details?.error);
    expect(failed).toHaveLength(2);

    // Once Graph answers again the next tick does all of it.
    sim.control({ usersFailPage: null });
    expect(await ok(e, def)).toMatchObject({ new: 1, rescheduled: 1, withdrawn: 1 });
    const [healthy] = await readSweepStatuses(e.ctx.redis, e.ctx.prefix);
    expect(healthy?.lastSuccessMs).toBeGreaterThan(healthy?.lastFailureMs ?? 0);
  });

  it('confirms a missing leaver with a direct read: a date moved into the past runs now, a deleted user is kept', {
    timeout: 120_000,
  }, async () => {
    sim.control({ users: { clear: true } });
    const e = await env();
    const def = schedule('confirm');
    const now = Date.now();
    setLeave('retro@contoso.com', now + 2 * DAY);
    setLeave('deleted@contoso.com', now + 3 * DAY);
    expect((await ok(e, def)).new).toBe(2);
    // HR backdates one leaver (before the window now read) and the other user is deleted from Entra.
    setLeave('retro@contoso.com', now - 3 * DAY);
    sim.control({ users: { remove: ['deleted@contoso.com'] } });
    expect(await ok(e, def)).toMatchObject({ found: 0, rescheduled: 1, withdrawn: 0 });
    const jobs = new Map((await pendingJobs(e.ctx)).map((j) => [j.data.user, j]));
    expect(await jobs.get(idOf('retro@contoso.com'))?.getState()).toBe('waiting');
    expect(await jobs.get(idOf('deleted@contoso.com'))?.getState()).toBe('delayed');
    expect((await audit(e.ctx)).filter((x) => x.type === 'cancelled')).toEqual([]);
  });

  it('holds a spike of new leavers above GUARD_THRESHOLD as one batch, also across ticks', {
    timeout: 120_000,
  }, async () => {
    sim.control({ users: { clear: true } });
    const e = await env({ GUARD_THRESHOLD: '5' });
    const def = schedule('spike');
    const now = Date.now();
    for (let i = 0; i < 8; i++) setLeave(`spike${i}@contoso.com`, now + DAY + i * HOUR);
    const first = await ok(e, def);
    expect(first).toMatchObject({ found: 8, new: 0 });
    expect(first.held).toBeTruthy();
    expect(await e.ctx.retire.count()).toBe(0);
    const second = await ok(e, def);
    expect(second.held).toBe(first.held);
    expect(second.heldUsers).toBe(8);
    const held = await listBatches(e.ctx, { state: 'held' });
    expect(held.map((b) => b.id)).toEqual([first.held]);
    expect(held[0]).toMatchObject({ count: 8, submittedBy: 'schedule:spike', source: 'schedule' });
  });

  it('catches up after a restart: the next window starts at the last complete read', {
    timeout: 120_000,
  }, async () => {
    sim.control({ users: { clear: true } });
    const e = await env();
    const def = schedule('restart');
    const first = await ok(e, def);
    await stopWorker(e);
    // While no worker ran, a leave date between the last read and now appeared (HR entered it late).
    await new Promise((r) => setTimeout(r, 2100));
    const missed = Date.now() - 1000;
    setLeave('missed.while.down@contoso.com', missed);
    const restarted = startSweepWorker(e.ctx, {
      logger: createLogger({ level: 'silent' }),
      tokenProvider: e.tokens,
    });
    e.worker = restarted;
    const second = await ok(e, def);
    expect(second.window?.from).toBe(
      new Date(Math.floor(Date.parse(first.window?.readAt ?? '') / 1000) * 1000).toISOString(),
    );
    expect(second.new).toBe(1);
    const [job] = await pendingJobs(e.ctx);
    expect(job?.data.user).toBe(idOf('missed.while.down@contoso.com'));
    expect(await job?.getState()).toBe('waiting'); // the leave date has passed: due at once
  });
});
