// /metrics (fleet counters from Redis + the API's own), /readyz with the circuit, structured logs
// with request ids and no secrets, per-key rate limiting, error mapping by class.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { REDIS_UNAVAILABLE, toHttpError } from '../../src/api/errors.js';
import { ConfigError } from '../../src/config/errors.js';
import { openCircuit } from '../../src/control/queue-control.js';
import { BatchNotFoundError, BatchStateError, TwoPersonRuleError } from '../../src/guard/errors.js';
import { JobNotCancellableError, JobNotFoundError } from '../../src/intake/cancel.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { InvalidRequestError } from '../../src/intake/validate.js';
import { DeadLetterNotFoundError, moveToDeadLetter } from '../../src/records/dead-letter.js';
import { graphCallFields, incrementMetrics } from '../../src/records/metrics.js';
import { testConfig } from '../helpers/config.js';
import { startRedis } from '../helpers/redis.js';
import { bearer, KEY_NAMES, KEYS, memoryLogger, type TestApi, testApp } from './helpers.js';

let t: TestApi;
const log = memoryLogger('info');
beforeAll(async () => {
  t = await testApp({}, log.logger);
});
afterAll(async () => t.close());

function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('/metrics', () => {
  it('exposes the fleet counters from Redis, queue depth, circuit state and the API series', async () => {
    const { ctx } = t;
    await incrementMetrics(ctx.redis, ctx.prefix, graphCallFields(204, 0.3));
    await incrementMetrics(ctx.redis, ctx.prefix, graphCallFields(204, 0.04));
    await incrementMetrics(ctx.redis, ctx.prefix, graphCallFields(429, 0.02));
    await incrementMetrics(ctx.redis, ctx.prefix, graphCallFields('timeout', 30));
    await incrementMetrics(ctx.redis, ctx.prefix, {
      'outcome:retired': 2,
      'outcome:dry_run': 1,
      'dead_letter:not_found': 3,
      retries: 4,
      throttled_waits: 5,
      'circuit_opened:invalid_client': 1,
    });
    await enqueue(ctx, { user: 'm1@contoso.com' }, { requestedBy: 'x', source: 'cli' });
    await enqueue(ctx, { user: 'm2@contoso.com' }, { requestedBy: 'x', source: 'cli' });
    await moveToDeadLetter(
      ctx,
      {
        id: 'm3',
        data: {
          user: 'm3@contoso.com',
          dryRun: false,
          correlationId: 'c',
          requestedBy: 'x',
          requestedAt: new Date().toISOString(),
          source: 'cli',
        },
      },
      { reason: 'forbidden', lastStatus: 403, attempts: 1, throttledWaits: 0 },
    );
    await t.app.inject({ url: '/v1/queues', headers: bearer(KEYS.viewer) });

    const res = await t.app.inject({ url: '/metrics', headers: bearer(KEYS.viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const m = res.body;
    expect(sample(m, 'offboard_redis_up')).toBe(1);
    expect(sample(m, 'offboard_graph_calls_total{status="204"}')).toBe(2);
    expect(sample(m, 'offboard_graph_calls_total{status="timeout"}')).toBe(1);
    expect(sample(m, 'offboard_graph_calls_total{status="429"}')).toBe(1);
    expect(sample(m, 'offboard_graph_call_duration_seconds_bucket{status="204",le="0.05"}')).toBe(1);
    expect(sample(m, 'offboard_graph_call_duration_seconds_bucket{status="204",le="0.5"}')).toBe(2);
    expect(sample(m, 'offboard_graph_call_duration_seconds_bucket{status="204",le="+Inf"}')).toBe(2);
    expect(sample(m, 'offboard_graph_call_duration_seconds_count{status="204"}')).toBe(2);
    expect(sample(m, 'offboard_graph_call_duration_seconds_sum{status="204"}')).toBeCloseTo(0.34, 5);
    expect(sample(m, 'offboard_jobs_total{outcome="retired",reason=""}')).toBe(2);
    expect(sample(m, 'offboard_jobs_total{outcome="dead_lettered",reason="not_found"}')).toBe(3);
    expect(sample(m, 'offboard_retries_total')).toBe(4);
    expect(sample(m, 'offboard_throttled_waits_total')).toBe(5);
    expect(sample(m, 'offboard_circuit_opened_total{code="invalid_client"}')).toBe(1);
    expect(sample(m, 'offboard_circuit_open{code=""}')).toBe(0);
    expect(sample(m, 'offboard_queue_jobs{queue="retire",state="waiting"}')).toBe(2);
    expect(sample(m, 'offboard_queue_jobs{queue="dead-letter",state="waiting"}')).toBe(1);
    expect(sample(m, 'offboard_queue_paused')).toBe(0);
    expect(sample(m, 'offboard_throttle_rate_per_second')).toBe(9.7);
    expect(sample(m, 'offboard_api_http_requests_total{method="GET",route="/v1/queues",status="200"}')).toBe(
      1,
    );
    expect(m).toContain('# TYPE offboard_graph_call_duration_seconds histogram');
    expect(m).toMatch(/^process_resident_memory_bytes \d+/m);
  });
});

describe('/readyz and /healthz', () => {
  it('stays ready while the circuit is open (reported in checks, /v1/queues and the metric), and closes on resume', async () => {
    expect((await t.app.inject({ url: '/readyz' })).json()).toMatchObject({
      status: 'ready',
      checks: { redis: 'ok', circuit: 'closed' },
    });
    await openCircuit(t.ctx, { code: 'invalid_client', reason: 'AADSTS7000215: invalid client secret' });
    const res = await t.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ready', checks: { redis: 'ok', circuit: 'open' } });
    expect(res.json().reason).toContain('invalid_client');
    const queues = await t.app.inject({ url: '/v1/queues', headers: bearer(KEYS.viewer) });
    expect(JSON.stringify(queues.json())).toContain('invalid_client');
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const m = (await t.app.inject({ url: '/metrics', headers: bearer(KEYS.operator) })).body;
    expect(m).toMatch(/^offboard_circuit_open\{code="invalid_client"\} 1$/m);
    await t.app.inject({ method: 'POST', url: '/v1/queues/retire/resume', headers: bearer(KEYS.operator) });
    expect((await t.app.inject({ url: '/readyz' })).json().checks.circuit).toBe('closed');
  });
});

describe('logs', () => {
  it('are structured, carry request ids and key names, and never the key or other secrets', async () => {
    await t.app.inject({
      url: '/v1/queues',
      headers: { ...bearer(KEYS.operator), 'x-request-id': 'trace-77' },
    });
    await t.app.inject({
      url: '/v1/queues',
      headers: { 'x-api-key': KEYS.viewer, cookie: 'session=secret-cookie' },
    });
    await t.app.inject({ url: '/v1/queues', headers: bearer('obk_wrong-key-should-not-be-logged') });
    await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings',
      headers: { authorization: `Basic ${Buffer.from(`u:${KEYS.producer}`).toString('base64')}` },
      payload: { user: 'logs@contoso.com' },
    });
    const all = log.lines.join('');
    for (const secret of [...Object.values(KEYS), 'obk_wrong-key-should-not-be-logged', 'secret-cookie']) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(Buffer.from(`u:${secret}`).toString('base64'));
    }
    const entries = log.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const traced = entries.filter((e) => e.reqId === 'trace-77');
    expect(traced.length).toBeGreaterThanOrEqual(2);
    expect(traced.some((e) => e.keyName === KEY_NAMES.operator)).toBe(true);
    expect(entries.some((e) => e.msg === 'request refused' && e.code === 'unauthorized')).toBe(true);
  });
});

describe('rate limiting per key', () => {
  let r: TestApi;
  beforeAll(async () => {
    r = await testApp({ API_RATE_LIMIT: '5' });
  });
  afterAll(async () => r.close());

  it('answers 429 JSON with Retry-After past the limit, per key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await r.app.inject({ url: '/v1/queues', headers: bearer(KEYS.viewer) })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await r.app.inject({ url: '/v1/queues', headers: bearer(KEYS.viewer) });
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another key has its own budget; probes are never limited.
    expect((await r.app.inject({ url: '/v1/queues', headers: bearer(KEYS.operator) })).statusCode).toBe(200);
    for (let i = 0; i < 10; i++) expect((await r.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('start-up and error mapping', () => {
  it('refuses an empty key set unless API_AUTH=disabled, and then warns on every start', async () => {
    const redis = await startRedis();
    try {
      const env = { REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix };
      expect(() => testConfig(env, { needApi: true })).toThrow(ConfigError);
      await expect(buildApp(testConfig(env))).rejects.toBeInstanceOf(ConfigError);
      for (let i = 0; i < 2; i++) {
        const logs = memoryLogger('info');
        const app = await buildApp(
          testConfig({ ...env, API_AUTH: 'disabled', API_HOST: '127.0.0.1' }, { needApi: true }),
          {
            logger: logs.logger,
          },
        );
        expect(logs.lines.some((l) => l.includes('API_AUTH=disabled'))).toBe(true);
        const res = await app.inject({ method: 'POST', url: '/v1/queues/retire/pause' });
        expect(res.statusCode).toBe(200);
        expect(res.json().pause.actor).toBe('anonymous');
        await app.close();
      }
    } finally {
      await redis.stop();
    }
  });

  it('maps each named error to its status by class', () => {
    const cases: [unknown, number, string][] = [
      [new InvalidRequestError('bad', 'user'), 400, 'invalid_request'],
      [new JobNotFoundError('x'), 404, 'not_found'],
      [new JobNotCancellableError('x', 'active'), 409, 'not_cancellable'],
      [new DeadLetterNotFoundError('x'), 404, 'not_found'],
      [new BatchNotFoundError('x'), 404, 'not_found'],
      [new BatchStateError('x', 'approved'), 409, 'batch_state'],
      [new TwoPersonRuleError('x', 'a'), 403, 'two_person_rule'],
      [Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }), 503, 'redis_unavailable'],
      [Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 503, 'redis_unavailable'],
      [new Error('surprise'), 500, 'internal'],
    ];
    for (const [err, status, code] of cases) expect(toHttpError(err)).toMatchObject({ status, code });
    expect(REDIS_UNAVAILABLE.status).toBe(503);
  });
});
