// Reading and acting through the API: job view (waiting, completed, dead-lettered), queue status,
// dead letters (list, filter, redrive, discard), pause/resume and cancel — each action audited
// under the API key's name.
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/intake/enqueue.js';
import type { RetireJobData, RetireRecord } from '../../src/interfaces.js';
import { readAudit } from '../../src/records/audit.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';
import { createRedis } from '../../src/redis/connection.js';
import { bearer, KEY_NAMES, KEYS, pollUntil, type TestApi, testApp } from './helpers.js';

let t: TestApi;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const get = (url: string, key: string = KEYS.viewer) => t.app.inject({ url, headers: bearer(key) });
const act = (method: 'POST' | 'DELETE', url: string, payload?: object, key: string = KEYS.operator) =>
  t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });

const jobData = (user: string): RetireJobData => ({
  user,
  dryRun: false,
  correlationId: `corr-${user}`,
  requestedBy: 'seed',
  requestedAt: new Date().toISOString(),
  source: 'cli',
});

/** Runs the retire queue once with a stand-in processor (real BullMQ, no Graph). */
async function runJobs(
  processor: (job: {
    id?: string;
    data: RetireJobData;
    updateProgress(p: object): Promise<void>;
  }) => Promise<RetireRecord>,
) {
  const connection = createRedis(t.config.redis, { blocking: true });
  const worker = new Worker<RetireJobData, RetireRecord>('retire', processor as never, {
    connection,
    prefix: t.config.redis.prefix,
    autorun: true,
  });
  return {
    async stop() {
      await worker.close();
      connection.disconnect();
    },
  };
}

describe('GET /v1/offboardings/{id}', () => {
  it('shows a waiting job, then its record once completed, with its history', async () => {
    const { id } = await enqueue(
      t.ctx,
      { user: 'view@contoso.com' },
      { requestedBy: KEY_NAMES.producer, source: 'api' },
    );
    const waiting = await get(`/v1/offboardings/${id}`, KEYS.producer);
    expect(waiting.statusCode).toBe(200);
    expect(waiting.json()).toMatchObject({
      id,
      state: 'waiting',
      user: 'view@contoso.com',
      record: null,
      attempts: { made: 0, max: 6 },
    });
    expect(waiting.json().history.map((h: { type: string }) => h.type)).toEqual(['requested']);

    const w = await runJobs(async (job) => {
      await job.updateProgress({ graphCalls: 1, throttledWaits: 0, lastStatus: 204, lastRequestId: 'rq-1' });
      return {
        outcome: 'retired',
        user: job.data.user,
        requestId: 'rq-1',
        attempts: 1,
        throttledWaits: 0,
        durationMs: 5,
        finishedAt: new Date().toISOString(),
        requestedBy: job.data.requestedBy,
        correlationId: job.data.correlationId,
        dryRun: false,
      };
    });
    const done = await pollUntil(
      () => get(`/v1/offboardings/${id}`),
      (r) => r.json().state === 'completed',
    );
    await w.stop();
    expect(done.json()).toMatchObject({
      state: 'completed',
      record: { outcome: 'retired', requestId: 'rq-1' },
      attempts: { made: 1, graphCalls: 1 },
      progress: { lastStatus: 204 },
    });
    expect(done.json().timestamps.finishedAt).toMatch(/^\d{4}-/);
  });

  it('reports a dead-lettered job as such, with the dead letter', async () => {
    const { id } = await enqueue(
      t.ctx,
      { user: 'gone@contoso.com' },
      { requestedBy: KEY_NAMES.producer, source: 'api' },
    );
    const w = await runJobs(async (job) => {
      await moveToDeadLetter(t.ctx, job, {
        reason: 'not_found',
        lastStatus: 404,
        graphCode: 'Request_ResourceNotFound',
        attempts: 1,
        throttledWaits: 0,
      });
      throw new UnrecoverableError('dead-lettered: not_found');
    });
    const view = await pollUntil(
      () => get(`/v1/offboardings/${id}`),
      (r) => r.json().state === 'dead-lettered',
    );
    await w.stop();
    expect(view.json()).toMatchObject({
      state: 'dead-lettered',
      deadLetter: {
        id: `dl-${id}`,
        reason: 'not_found',
        lastStatus: 404,
        graphCode: 'Request_ResourceNotFound',
      },
    });
    expect(view.json().history.map((h: { type: string }) => h.type)).toEqual(['requested', 'dead-lettered']);
    const missing = await get('/v1/offboardings/does-not-exist');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });
});

describe('queues: status, pause, resume', () => {
  it('pauses with a reason and resumes, audited under the key name', async () => {
    const pause = await act('POST', '/v1/queues/retire/pause', { reason: 'Graph maintenance' });
    expect(pause.statusCode).toBe(200);
    expect(pause.json()).toMatchObject({
      paused: true,
      pause: { reason: 'Graph maintenance', actor: KEY_NAMES.operator },
    });
    const status = await get('/v1/queues');
    expect(status.json()).toMatchObject({
      paused: true,
      circuit: { open: false },
      throttle: { configured: { limit: 200, windowMs: 20_000 } },
    });
    expect(status.json().retire).toHaveProperty('waiting');
    expect(status.json().deadLetter).toHaveProperty('waiting');
    const resume = await act('POST', '/v1/queues/retire/resume', undefined, KEYS.operator2);
    expect(resume.json()).toMatchObject({ paused: false, pause: null });
    const audit = await readAudit(t.ctx, { count: 20 });
    expect(audit.find((a) => a.type === 'paused')).toMatchObject({
      actor: KEY_NAMES.operator,
      details: { reason: 'Graph maintenance' },
    });
    expect(audit.find((a) => a.type === 'resumed')?.actor).toBe(KEY_NAMES.operator2);
  });
});

describe('dead letters', () => {
  it('lists with a reason filter and pagination, redrives and discards with audit', async () => {
    const reasons = ['forbidden', 'bad_request', 'forbidden', 'retries_exhausted'] as const;
    for (const [i, reason] of reasons.entries()) {
      await moveToDeadLetter(
        t.ctx,
        { id: `orig-${i}`, data: jobData(`dl${i}@contoso.com`) },
        { reason, lastStatus: 403, attempts: 1, throttledWaits: 0 },
      );
    }
    const forbidden = await get('/v1/dead-letters?reason=forbidden');
    expect(forbidden.json().total).toBe(2);
    expect(
      forbidden
        .json()
        .items.map((d: { id: string }) => d.id)
        .sort(),
    ).toEqual(['dl-orig-0', 'dl-orig-2']);
    const page = await get('/v1/dead-letters?limit=2&offset=0');
    expect(page.json()).toMatchObject({ limit: 2, offset: 0 });
    expect(page.json().items).toHaveLength(2);
    expect(page.json().total).toBeGreaterThanOrEqual(4);
    expect((await get('/v1/dead-letters/dl-orig-1')).json()).toMatchObject({
      reason: 'bad_request',
      original: { user: 'dl1@contoso.com' },
    });

    const redrive = await act('POST', '/v1/dead-letters/dl-orig-0/redrive');
    expect(redrive.statusCode).toBe(200);
    const { jobId } = redrive.json();
    const job = await t.ctx.retire.getJob(jobId);
    expect(job?.data).toMatchObject({
      user: 'dl0@contoso.com',
      requestedBy: KEY_NAMES.operator,
      source: 'redrive',
      redrivenFrom: 'dl-orig-0',
    });
    expect(await t.ctx.deadLetter.getJob('dl-orig-0')).toBeUndefined();
    expect((await act('POST', '/v1/dead-letters/dl-orig-0/redrive')).statusCode).toBe(404);

    const discard = await act(
      'DELETE',
      `/v1/dead-letters/dl-orig-1?note=${encodeURIComponent('user never existed')}`,
      undefined,
      KEYS.operator2,
    );
    expect(discard.statusCode).toBe(200);
    expect(await t.ctx.deadLetter.getJob('dl-orig-1')).toBeUndefined();
    const audit = await readAudit(t.ctx, { count: 50 });
    expect(audit.find((a) => a.type === 'redriven')).toMatchObject({
      actor: KEY_NAMES.operator,
      details: { deadLetterId: 'dl-orig-0' },
    });
    expect(audit.find((a) => a.type === 'discarded')).toMatchObject({
      actor: KEY_NAMES.operator2,
      details: { note: 'user never existed' },
    });
  });
});

describe('DELETE /v1/offboardings/{id}', () => {
  it('cancels a future-dated job (audited) and refuses a finished one', async () => {
    const at = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const { id } = await enqueue(
      t.ctx,
      { user: 'later@contoso.com', effectiveAt: at },
      { requestedBy: KEY_NAMES.producer, source: 'api' },
    );
    const res = await act('DELETE', `/v1/offboardings/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, state: 'cancelled', previousState: 'delayed' });
    expect(await t.ctx.retire.getJob(id)).toBeUndefined();
    const audit = await readAudit(t.ctx, { count: 20 });
    expect(audit.find((a) => a.type === 'cancelled')).toMatchObject({ actor: KEY_NAMES.operator, jobId: id });

    const completed = (await t.ctx.retire.getJobs(['completed']))[0];
    expect(completed).toBeDefined();
    const refused = await act('DELETE', `/v1/offboardings/${completed?.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'not_cancellable', details: { state: 'completed' } });
  });
});
