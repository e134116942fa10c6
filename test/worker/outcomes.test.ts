// One row of DESIGN.md's failure table per test, with a real worker (in this process), a real Redis
// and the Graph simulator over HTTP; asserted from the simulator's stats and what is in Redis.
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import type { QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { userHistory } from '../../src/records/audit.js';
import { readMetrics } from '../../src/records/metrics.js';
import { enqueueUsers, outcomeOf, waitFor, waitForOutcomes } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const suite = useWorkerSuite({
  sim: { latencyMs: 5 },
  resetSim: (sim) => sim.control({ latencyMs: 5, outage: null, hangAll: false }),
});

/**
 * Fleet counters are buffered in the worker and written about once a second and on close: closing the
 * worker first makes them exact and final.
 */
async function metricsAfterClose(c: QueueContext): Promise<Record<string, number>> {
  await suite.closeWorkers();
  return readMetrics(c.redis, c.prefix);
}

function setup(env: Record<string, string> = {}): Promise<{ config: Config; ctx: QueueContext }> {
  return suite.start(env);
}

describe('worker outcomes (one row of the failure table each)', () => {
  it('204 → retired with its record; the audit has the attempt and the outcome', async () => {
    const { ctx } = await setup();
    const [id] = await enqueueUsers(ctx, ['alice@contoso.com']);
    const [o] = await waitForOutcomes(ctx, [id as string]);
    expect(o?.state).toBe('completed');
    expect(o?.record).toMatchObject({
      outcome: 'retired',
      user: 'alice@contoso.com',
      attempts: 1,
      throttledWaits: 0,
      requestedBy: 'test',
      dryRun: false,
    });
    expect(o?.record?.requestId).toMatch(/\S/);
    expect(suite.sim.stats().graph.successByUser['alice@contoso.com']).toBe(1);
    const history = await userHistory(ctx, 'alice@contoso.com');
    const types = history.map((e) => e.type);
    expect(types).toEqual(['requested', 'attempt', 'retired']);
    expect(history[1]?.details).toMatchObject({ status: 204, requestId: o?.record?.requestId });
    // The process announces itself for readiness checks and operators.
    expect(Object.keys(await ctx.redis.hgetall(keys.workers(ctx.prefix)))).toHaveLength(1);
    const metrics = await metricsAfterClose(ctx);
    expect(metrics['outcome:retired']).toBe(1);
    expect(metrics['graph_calls:204']).toBe(1);
  });

  it('404 → exactly one call and a dead letter `not_found`', async () => {
    const { ctx } = await setup();
    const [id] = await enqueueUsers(ctx, ['notfound-bob@contoso.com']);
    const [o] = await waitForOutcomes(ctx, [id as string]);
    expect(o?.state).toBe('failed');
    expect(o?.deadLetter).toMatchObject({
      reason: 'not_found',
      lastStatus: 404,
      attempts: 1,
      originalJobId: id,
    });
    expect(o?.deadLetter?.requestId).toMatch(/\S/);
    expect(o?.deadLetter?.graphCode).toBe('Request_ResourceNotFound');
    expect(suite.sim.stats().graph.byUser['notfound-bob@contoso.com']).toBe(1);
  });

  it('400 for a lone user → dead letter `bad_request` after one second look (too few users to judge), no retry', async () => {
    const { ctx } = await setup();
    const [id] = await enqueueUsers(ctx, ['badrequest-carol@contoso.com']);
    const [o] = await waitForOutcomes(ctx, [id as string]);
    // Looked at twice (the request_rejected judge had no sample the first time), no attempt used.
    expect(o?.deadLetter).toMatchObject({ reason: 'bad_request', lastStatus: 400, attempts: 2 });
    expect(o?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
    expect(suite.sim.stats().graph.byUser['badrequest-carol@contoso.com']).toBe(2);
  });

  it('a single 403 → dead letter `forbidden`, the circuit stays closed', async () => {
    const { ctx } = await setup();
    const [id, ok] = await enqueueUsers(ctx, ['forbidden-dave@contoso.com', 'erin@contoso.com']);
    const out = await waitForOutcomes(ctx, [id as string, ok as string]);
    expect(out[0]?.deadLetter).toMatchObject({ reason: 'forbidden', lastStatus: 403, attempts: 1 });
    expect(out[1]?.record?.outcome).toBe('retired');
    expect(await ctx.retire.isPaused()).toBe(false);
  });

  it('503 ×2 then 204 → retired with attempts 3, every attempt in the audit', async () => {
    const { ctx } = await setup();
    const [id] = await enqueueUsers(ctx, ['flaky-frank@contoso.com']);
    const [o] = await waitForOutcomes(ctx, [id as string]);
    expect(o?.record).toMatchObject({ outcome: 'retired', attempts: 3 });
    const attempts = (await userHistory(ctx, 'flaky-frank@contoso.com')).filter((e) => e.type === 'attempt');
    expect(attempts.map((e) => e.details?.status)).toEqual([503, 503, 204]);
    expect(new Set(attempts.map((e) => e.details?.clientRequestId)).size).toBe(3);
    expect(suite.sim.stats().graph.byUser['flaky-frank@contoso.com']).toBe(3);
    expect((await metricsAfterClose(ctx)).retries).toBe(2);
  });

  it('a hanging call times out, is retried and the user is retired', async () => {
    const { ctx } = await setup({ GRAPH_TIMEOUT: '500ms' });
    const [id] = await enqueueUsers(ctx, ['hang-gina@contoso.com']);
    const [o] = await waitForOutcomes(ctx, [id as string]);
    expect(o?.record).toMatchObject({ outcome: 'retired', attempts: 2 });
    const attempts = (await userHistory(ctx, 'hang-gina@contoso.com')).filter((e) => e.type === 'attempt');
    expect(attempts[0]?.details).toMatchObject({ status: null, error: 'GraphTimeoutError' });
    expect(attempts[1]?.details).toMatchObject({ status: 204 });
    expect((await metricsAfterClose(ctx))['graph_calls:timeout']).toBe(1);
  });

  it('429 without Retry-After → backoff, then retired (counts against the retry budget, not as a throttled wait)', async () => {
    const { ctx } = await setup();
    suite.sim.control({ script: { 'henry@contoso.com': [429] } });
    const [id] = await enqueueUsers(ctx, ['henry@contoso.com']);
    const [o] = await waitForOutcomes(ctx, [id as string]);
    expect(o?.record).toMatchObject({ outcome: 'retired', attempts: 2, throttledWaits: 0 });
    expect(suite.sim.stats().graph.byStatus['429']).toBe(1);
  });

  it('always 503 → in-call and durable retries, then dead letter `retries_exhausted` with lastStatus 503', async () => {
    const { ctx } = await setup({
      JOB_ATTEMPTS: '2',
      RETRY_IN_CALL: '1',
      RETRY_BASE: '20ms',
      RETRY_CAP: '100ms',
    });
    suite.sim.control({ script: { 'ivan@contoso.com': [503, 503, 503, 503, 503, 503, 503, 503] } });
    const [id] = await enqueueUsers(ctx, ['ivan@contoso.com']);
    const [o] = await waitForOutcomes(ctx, [id as string]);
    expect(o?.state).toBe('failed');
    // 2 durable attempts × (1 call + 1 in-call retry) = 4 calls, every one counted.
    expect(o?.deadLetter).toMatchObject({ reason: 'retries_exhausted', lastStatus: 503, attempts: 4 });
    expect(o?.deadLetter?.graphCode).toBe('ServiceUnavailable');
    expect(suite.sim.stats().graph.byUser['ivan@contoso.com']).toBe(4);
    const metrics = await metricsAfterClose(ctx);
    expect(metrics['dead_letter:retries_exhausted']).toBe(1);
  });

  it('429 with Retry-After → a throttled wait honoured, then retired; throttled waits do not use the retry budget', async () => {
    const { ctx } = await setup({ JOB_ATTEMPTS: '1', RETRY_IN_CALL: '0' });
    suite.sim.control({
      script: {
        'judy@contoso.com': [
          { status: 429, retryAfter: '1' },
          { status: 429, retryAfter: '0.5' },
        ],
      },
    });
    const [id] = await enqueueUsers(ctx, ['judy@contoso.com']);
    const [o] = await waitForOutcomes(ctx, [id as string]);
    expect(o?.record).toMatchObject({ outcome: 'retired', attempts: 3, throttledWaits: 2 });
    const log = suite.sim.stats().graph.log.filter((e) => e.user === 'judy@contoso.com');
    expect((log[1]?.at as number) - (log[0]?.at as number)).toBeGreaterThanOrEqual(1000);
    expect((log[2]?.at as number) - (log[1]?.at as number)).toBeGreaterThanOrEqual(500);
    expect(suite.sim.stats().graph.insideRetryAfterWindow).toBe(0);
    const types = (await userHistory(ctx, 'judy@contoso.com')).map((e) => e.type);
    expect(types.filter((t) => t === 'throttled')).toHaveLength(2);
  });

  it('more throttled waits than THROTTLE_WAIT_CAP → dead letter `throttled_exhausted`', async () => {
    const { ctx } = await setup({ THROTTLE_WAIT_CAP: '1' });
    suite.sim.control({
      script: {
        'ken@contoso.com': [
          { status: 429, retryAfter: '0.1' },
          { status: 429, retryAfter: '0.1' },
        ],
      },
    });
    const [id] = await enqueueUsers(ctx, ['ken@contoso.com']);
    const [o] = await waitForOutcomes(ctx, [id as string]);
    expect(o?.deadLetter).toMatchObject({
      reason: 'throttled_exhausted',
      lastStatus: 429,
      throttledWaits: 2,
    });
  });

  it('dry run → outcome `dry_run` and zero Graph calls', async () => {
    const { ctx } = await setup();
    const ids = await enqueueUsers(ctx, ['lena@contoso.com', 'notfound-mia@contoso.com'], { dryRun: true });
    const out = await waitForOutcomes(ctx, ids);
    for (const o of out) expect(o.record).toMatchObject({ outcome: 'dry_run', dryRun: true, attempts: 0 });
    expect(suite.sim.stats().graph.calls).toBe(0);
    expect((await userHistory(ctx, 'lena@contoso.com')).map((e) => e.type)).toEqual(['requested', 'dry_run']);
  });

  it('DRY_RUN=true on the worker → every job `dry_run`, zero Graph calls', async () => {
    const { ctx } = await setup({ DRY_RUN: 'true' });
    const ids = await enqueueUsers(ctx, ['nina@contoso.com']);
    const [o] = await waitForOutcomes(ctx, ids);
    expect(o?.record?.outcome).toBe('dry_run');
    expect(suite.sim.stats().graph.calls).toBe(0);
  });

  it('on shutdown a job still waiting for the Retry-After gate goes back to the queue, attempts intact', async () => {
    const { ctx } = await setup();
    await ctx.redis.set(keys.throttleGate(ctx.prefix), String(Date.now() + 30_000));
    const [id] = await enqueueUsers(ctx, ['oscar@contoso.com']);
    await waitFor(async () => (await ctx.retire.getJobState(id as string)) === 'active', {
      what: 'job active',
    });
    const started = Date.now();
    await suite.closeWorkers();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await ctx.redis.hlen(keys.workers(ctx.prefix))).toBe(0);
    const o = await outcomeOf(ctx, id as string);
    expect(o.state).toBe('waiting');
    expect(o.attemptsMade).toBe(0);
    expect(suite.sim.stats().graph.calls).toBe(0);
  });

  it('a job whose data fails validation → dead letter `invalid_job`, no Graph call', async () => {
    const { ctx } = await setup();
    const job = await ctx.retire.add('retire', { user: 'not a user', dryRun: false } as never, {
      attempts: 3,
      backoff: { type: 'offboard' },
    });
    const [o] = await waitForOutcomes(ctx, [job.id as string]);
    expect(o?.deadLetter).toMatchObject({ reason: 'invalid_job', lastStatus: null, attempts: 0 });
    expect(suite.sim.stats().graph.calls).toBe(0);
  });

  it('a job written to Redis by hand with a callback path of another shape → `invalid_job`, nothing sent', async () => {
    const { ctx } = await setup();
    const data = {
      user: 'hand-made@contoso.com',
      dryRun: false,
      correlationId: 'c-1',
      requestedBy: 'mallory',
      requestedAt: new Date().toISOString(),
      source: 'api',
      // A path on GRAPH_BASE_URL the worker would POST to with the app's token.
      callbackUriPath: '/users/victim@contoso.com/removeAllDevicesFromManagement',
    };
    const job = await ctx.retire.add('retire', data as never, { attempts: 3, backoff: { type: 'offboard' } });
    const [o] = await waitForOutcomes(ctx, [job.id as string]);
    expect(o?.deadLetter).toMatchObject({ reason: 'invalid_job', attempts: 0 });
    expect(o?.deadLetter?.graphMessage ?? '').toMatch(/callbackUriPath/);
    expect(suite.sim.stats().graph.calls).toBe(0);
  });
});
