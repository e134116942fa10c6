// The pending-job rule (issue: a real request absorbed by a dry run). One pending job per user and
// kind: a real request is never absorbed by a pending dry run, an earlier moment brings a pending job
// forward (audited), the answer names the job that will run and when, and a dead letter is removed
// only once a job of its kind is pending. Through the API, and with a real worker and the simulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, enqueueMany } from '../../src/intake/enqueue.js';
import { redriveDeadLetter } from '../../src/intake/redrive.js';
import { readAudit, userHistory } from '../../src/records/audit.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';
import { bearer, KEYS, type TestApi, testApp } from '../api/helpers.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import { startTestWorker, waitFor, workerConfig } from '../helpers/worker.js';

let t: TestApi;
let sim: TestSimulator;
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

beforeAll(async () => {
  t = await testApp();
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim.close();
  await t.close();
});

const post = (body: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: '/v1/offboardings', headers: bearer(KEYS.producer), payload: body });

describe('a real request and a pending dry run', () => {
  it('schedules the real request on its own, and a worker really retires the user', async () => {
    const user = 'absorbed@contoso.com';
    const dry = await post({ user, dryRun: true, effectiveAt: inDays(300) });
    expect(dry.statusCode).toBe(202);
    const real = await post({ user, reason: 'terminated' });
    expect(real.statusCode).toBe(202);
    expect(real.json()).toMatchObject({ user, duplicate: false, state: 'waiting' });
    expect(real.json().id).not.toBe(dry.json().id);
    const job = await t.ctx.retire.getJob(real.json().id);
    expect(job?.data).toMatchObject({ user, dryRun: false, reason: 'terminated' });
    // Another, later dry run folds into the pending dry run (not into the real job).
    const dry2 = await post({ user, dryRun: true, effectiveAt: inDays(400) });
    expect(dry2.json()).toMatchObject({ duplicate: true, id: dry.json().id });

    const worker = await startTestWorker(workerConfig(t.redis, sim, t.redis.prefix));
    try {
      await waitFor(async () => {
        const j = await t.ctx.retire.getJob(real.json().id);
        return (await j?.getState()) === 'completed';
      });
      // Read again once completed: a copy read while it was active has no return value yet.
      const done = await t.ctx.retire.getJob(real.json().id);
      expect(done?.returnvalue).toMatchObject({ outcome: 'retired', user });
      expect(sim.stats().graph.successByUser[user]).toBe(1);
      // The dry run is still pending for its own date.
      expect(await (await t.ctx.retire.getJob(dry.json().id))?.getState()).toBe('delayed');
    } finally {
      await worker.close();
    }
  });
});

describe('an earlier moment brings a pending job forward', () => {
  it('moves a far-future job to the new, earlier moment and audits it', async () => {
    const user = 'earlier@contoso.com';
    const first = await post({ user, effectiveAt: inDays(300) });
    const soon = inDays(2);
    const second = await post({ user, effectiveAt: soon, correlationId: 'hr-42' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({
      id: first.json().id,
      duplicate: true,
      broughtForward: true,
      state: 'delayed',
    });
    expect(Date.parse(second.json().effectiveAt)).toBe(Date.parse(soon));
    const job = await t.ctx.retire.getJob(first.json().id);
    expect(Date.parse(job?.data.effectiveAt ?? '')).toBe(Date.parse(soon));
    expect(job?.delay).toBeLessThan(2 * 86_400_000 + 5000);
    const history = await userHistory(t.ctx, user);
    expect(history.find((e) => e.type === 'rescheduled')).toMatchObject({
      actor: 'hr-system',
      details: { cause: 'earlier_request', requestCorrelationId: 'hr-42' },
    });
    // A later moment leaves it where it is, and the answer says when it runs.
    const later = await post({ user, effectiveAt: inDays(100) });
    expect(later.json()).toMatchObject({ id: first.json().id, duplicate: true });
    expect(later.json().broughtForward).toBeUndefined();
    expect(Date.parse(later.json().effectiveAt)).toBe(Date.parse(soon));
    // Now (no date) promotes it at once.
    const now = await post({ user });
    expect(now.json()).toMatchObject({ id: first.json().id, broughtForward: true, state: 'waiting' });
  });

  it('applies the same rule to bulk submissions', async () => {
    const user = 'bulk-earlier@contoso.com';
    const first = await enqueue(
      t.ctx,
      { user, effectiveAt: inDays(200) },
      { requestedBy: 'a', source: 'cli' },
    );
    const [r] = await enqueueMany(t.ctx, [{ user, effectiveAt: inDays(1) }], {
      requestedBy: 'b',
      source: 'import',
    });
    expect(r).toMatchObject({ status: 'duplicate', id: first.id, broughtForward: true, state: 'delayed' });
  });
});

describe('duplicates are coalesced in the audit', () => {
  it('writes one duplicate entry per actor and job however often a producer repeats', async () => {
    const user = 'flood@contoso.com';
    await post({ user, effectiveAt: inDays(10) });
    const before = (await readAudit(t.ctx, { count: 10_000 })).length;
    for (let i = 0; i < 50; i++) await post({ user, effectiveAt: inDays(20) });
    const after = await readAudit(t.ctx, { count: 10_000 });
    expect(after.length - before).toBe(1);
    expect(after[0]).toMatchObject({ type: 'duplicate', user });
  });
});

describe('redrive', () => {
  const deadLetter = async (id: string, user: string, dryRun = false) =>
    moveToDeadLetter(
      t.ctx,
      {
        id,
        data: {
          user,
          dryRun,
          correlationId: `c-${id}`,
          requestedBy: 'seed',
          requestedAt: new Date().toISOString(),
          source: 'cli',
        },
      },
      { reason: 'retries_exhausted', lastStatus: 503, attempts: 6, throttledWaits: 0 },
    );

  it('is not absorbed by a pending dry run: a real job exists before the dead letter goes', async () => {
    const user = 'redrive-dry@contoso.com';
    await enqueue(
      t.ctx,
      { user, dryRun: true, effectiveAt: inDays(300) },
      { requestedBy: 'x', source: 'cli' },
    );
    await deadLetter('rd-1', user);
    const r = await redriveDeadLetter(t.ctx, 'dl-rd-1', 'ops-alice');
    expect(r.duplicate).toBe(false);
    const job = await t.ctx.retire.getJob(r.jobId);
    expect(job?.data).toMatchObject({ user, dryRun: false, redrivenFrom: 'dl-rd-1' });
    expect(await t.ctx.deadLetter.getJob('dl-rd-1')).toBeUndefined();
  });

  it('brings a far-future real job forward instead of leaving the leaver waiting a year', async () => {
    const user = 'redrive-late@contoso.com';
    const far = await enqueue(t.ctx, { user, effectiveAt: inDays(300) }, { requestedBy: 'x', source: 'cli' });
    await deadLetter('rd-2', user);
    const r = await redriveDeadLetter(t.ctx, 'dl-rd-2', 'ops-alice');
    expect(r).toMatchObject({ jobId: far.id, duplicate: true });
    expect(await (await t.ctx.retire.getJob(far.id))?.getState()).toBe('waiting');
    expect(await t.ctx.deadLetter.getJob('dl-rd-2')).toBeUndefined();
  });

  it('keeps a real dead letter when DRY_RUN would turn its redrive into a dry run', async () => {
    const dry = await testApp({ DRY_RUN: 'true' });
    try {
      await moveToDeadLetter(
        dry.ctx,
        {
          id: 'rd-3',
          data: {
            user: 'kept@contoso.com',
            dryRun: false,
            correlationId: 'c',
            requestedBy: 'seed',
            requestedAt: new Date().toISOString(),
            source: 'cli',
          },
        },
        { reason: 'retries_exhausted', lastStatus: 503, attempts: 6, throttledWaits: 0 },
      );
      const res = await dry.app.inject({
        method: 'POST',
        url: '/v1/dead-letters/dl-rd-3/redrive',
        headers: bearer(KEYS.operator),
      });
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('redrive_not_settled');
      expect(await dry.ctx.deadLetter.getJob('dl-rd-3')).toBeDefined();
      expect(await dry.ctx.retire.count()).toBe(0);
    } finally {
      await dry.close();
    }
  });
});
