// The Lifecycle Workflows callback on intake: only the exact resume path shape is accepted (a path on
// GRAPH_BASE_URL, never a URL), hostile values are refused with 400 and nothing is enqueued, it travels
// into the job, and a duplicate brings its callback to a pending job that had none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRequestError, validateRequest } from '../../src/intake/validate.js';
import { notifyQueue } from '../../src/notify/queue.js';
import { readAudit } from '../../src/records/audit.js';
import { incrementMetrics } from '../../src/records/metrics.js';
import { bearer, KEYS, type TestApi, testApp } from './helpers.js';

const W = '0a1b2c3d-1111-4aaa-8bbb-000000000001';
const T = '0a1b2c3d-2222-4aaa-8bbb-000000000002';
const R = '0a1b2c3d-3333-4aaa-8bbb-000000000003';
const path = (w = W, t = T, r = R) =>
  `/identityGovernance/lifecycleWorkflows/workflows/${w}/tasks/${t}/taskProcessingResults/${r}/microsoft.graph.identityGovernance.resume`;
const GOOD = path();

const HOSTILE: [string, unknown][] = [
  ['a full URL', `https://graph.microsoft.com/v1.0${GOOD}`],
  ['another host', `https://evil.example${GOOD}`],
  ['a scheme-relative URL', `//evil.example${GOOD}`],
  ['a version prefix', `/v1.0${GOOD}`],
  ['a dot-dot segment', GOOD.replace(`/tasks/${T}`, `/tasks/${T}/..`)],
  ['dot-dot to another resource', `${GOOD}/../../../../../../../users/x/removeAllDevicesFromManagement`],
  ['a query', `${GOOD}?$select=id`],
  ['a fragment', `${GOOD}#x`],
  ['an encoded slash', GOOD.replace(`/tasks/`, '%2Ftasks/')],
  ['an encoded id', path(`${W.slice(0, 35)}%41`)],
  ['a double slash', GOOD.replace('/tasks/', '//tasks/')],
  ['a trailing slash', `${GOOD}/`],
  ['a trailing new line', `${GOOD}\n`],
  ['a backslash', GOOD.replace('/tasks/', '\\tasks/')],
  ['a non-GUID id', path('workflow-1')],
  ['a GUID of dashes', path('------------------------------------')],
  ['another action', GOOD.replace('identityGovernance.resume', 'identityGovernance.activate')],
  ['another case', GOOD.replace('/lifecycleWorkflows/', '/LifecycleWorkflows/')],
  ['a user path', '/users/alice@contoso.com/removeAllDevicesFromManagement'],
  ['an empty string', ''],
  ['a number', 42],
  ['an object', { path: GOOD }],
  ['a very long value', `${GOOD}${'a'.repeat(5000)}`],
];

let t: TestApi;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const post = (url: string, payload: unknown) =>
  t.app.inject({ method: 'POST', url, payload: payload as object, headers: bearer(KEYS.producer) });

const jobCount = async () => {
  const c = await t.ctx.retire.getJobCounts(
    'waiting',
    'delayed',
    'active',
    'completed',
    'failed',
    'prioritized',
  );
  return Object.values(c).reduce((a, b) => a + b, 0);
};

describe('callbackUriPath on POST /v1/offboardings', () => {
  it('stores an exact resume path with the job and audits that a callback is attached', async () => {
    const res = await post('/v1/offboardings', { user: 'lw-1@contoso.com', callbackUriPath: GOOD });
    expect(res.statusCode).toBe(202);
    const job = await t.ctx.retire.getJob(res.json().id);
    expect(job?.data.callbackUriPath).toBe(GOOD);
    const audit = await readAudit(t.ctx, { count: 20 });
    const requested = audit.find((a) => a.type === 'requested' && a.user === 'lw-1@contoso.com');
    expect(requested?.details).toMatchObject({ lifecycleCallback: true });
    // The path itself is not copied into the audit (it is routing, not a fact about the leaver).
    expect(JSON.stringify(requested)).not.toContain('taskProcessingResults');
  });

  it.each(HOSTILE)('refuses %s with 400 and enqueues nothing', async (_what, value) => {
    const before = await jobCount();
    const res = await post('/v1/offboardings', { user: 'hostile-lw@contoso.com', callbackUriPath: value });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBeTruthy();
    expect(await jobCount()).toBe(before);
  });

  it('refuses the same values in a batch item without sinking the valid items', async () => {
    const res = await post('/v1/offboardings/batch', {
      items: [
        {
          user: 'batch-lw-ok@contoso.com',
          callbackUriPath: path(W, T, '0a1b2c3d-3333-4aaa-8bbb-0000000000ff'),
        },
        ...HOSTILE.map(([, v], i) => ({ user: `batch-lw-${i}@contoso.com`, callbackUriPath: v })),
      ],
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body.summary).toMatchObject({ accepted: 1, invalid: HOSTILE.length });
    const ok = body.results.find((r: { index: number }) => r.index === 0);
    const job = await t.ctx.retire.getJob(ok.id);
    expect(job?.data.callbackUriPath).toBe(path(W, T, '0a1b2c3d-3333-4aaa-8bbb-0000000000ff'));
  });

  it('the intake library (CLI, import, held batches) applies the same rule', () => {
    expect(validateRequest({ user: 'a@contoso.com', callbackUriPath: GOOD }).callbackUriPath).toBe(GOOD);
    expect(validateRequest({ user: 'a@contoso.com', callbackUriPath: null }).callbackUriPath).toBeUndefined();
    for (const [, v] of HOSTILE) {
      expect(() => validateRequest({ user: 'a@contoso.com', callbackUriPath: v })).toThrow(
        InvalidRequestError,
      );
    }
  });

  it('a duplicate brings its callback to a pending job without one; a second callback does not replace it', async () => {
    const later = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const first = await post('/v1/offboardings', { user: 'hr-first@contoso.com', effectiveAt: later });
    expect(first.statusCode).toBe(202);
    const id = first.json().id;
    expect((await t.ctx.retire.getJob(id))?.data.callbackUriPath).toBeUndefined();

    const lw = await post('/v1/offboardings', {
      user: 'hr-first@contoso.com',
      effectiveAt: later,
      callbackUriPath: GOOD,
    });
    expect(lw.statusCode).toBe(200);
    expect(lw.json()).toMatchObject({ id, duplicate: true });
    expect((await t.ctx.retire.getJob(id))?.data.callbackUriPath).toBe(GOOD);

    const other = path(W, T, '0a1b2c3d-3333-4aaa-8bbb-00000000abcd');
    const again = await post('/v1/offboardings', { user: 'hr-first@contoso.com', callbackUriPath: other });
    expect(again.statusCode).toBe(200);
    // Brought forward (an earlier moment) but still the first workflow's callback.
    expect((await t.ctx.retire.getJob(id))?.data.callbackUriPath).toBe(GOOD);
  });
});

describe('notifications on GET /v1/queues and /metrics', () => {
  it('shows the notify queue (its failed jobs are the notify dead letters) and the delivery counters', async () => {
    await incrementMetrics(t.ctx.redis, t.ctx.prefix, { 'notify:webhook:ok': 3, 'notify:resume:failed': 1 });
    await notifyQueue(t.ctx).add('webhook', { kind: 'webhook' } as never, { jobId: 'wh-seen' });
    const queues = await t.app.inject({ url: '/v1/queues', headers: bearer(KEYS.viewer) });
    expect(queues.statusCode).toBe(200);
    expect(queues.json().notify).toMatchObject({ waiting: 1, failed: 0 });
    const metrics = await t.app.inject({ url: '/metrics', headers: bearer(KEYS.viewer) });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('offboard_notify_deliveries_total{kind="webhook",result="ok"} 3');
    expect(metrics.body).toContain('offboard_notify_deliveries_total{kind="resume",result="failed"} 1');
    expect(metrics.body).toContain('offboard_queue_jobs{queue="notify",state="waiting"} 1');
    // A producer key does not read them.
    expect((await t.app.inject({ url: '/v1/queues', headers: bearer(KEYS.producer) })).statusCode).toBe(403);
  });
});
