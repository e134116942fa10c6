// GET /v1/queues shows each schedule's health (healthy, failing with the reason, not run yet) and the
// notify queue's counts, both declared in the OpenAPI document; a failing sweep (here: a tick that
// refused a mass withdrawal) is visible there and on /metrics. Viewer and up only, as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSchedule } from '../../src/schedule/definition.js';
import { addSchedule } from '../../src/schedule/schedules.js';
import { recordSweepFailure, recordSweepSuccess } from '../../src/schedule/sweep-status.js';
import type { SweepSummary } from '../../src/schedule/sweep-summary.js';
import { bearer, KEYS, type TestApi, testApp } from './helpers.js';

let t: TestApi;
const DAY = 86_400_000;

const entra = (name: string) =>
  validateSchedule({
    name,
    cron: '0 0 1 1 *',
    source: { type: 'entra', lookaheadMs: 14 * DAY, reconcile: true },
  });

const tick = (schedule: string, extra: Partial<SweepSummary> = {}): SweepSummary => ({
  schedule,
  tick: new Date().toISOString(),
  source: 'entra',
  found: 3,
  new: 1,
  duplicate: 2,
  invalid: 0,
  held: null,
  dryRun: false,
  rescheduled: 0,
  withdrawn: 0,
  ...extra,
});

beforeAll(async () => {
  t = await testApp();
  for (const name of ['nightly', 'leavers', 'fresh', 'constructor', 'broken']) {
    await addSchedule(t.ctx, entra(name), { actor: 'ops' });
  }
  const start = Date.now() - 60_000;
  await recordSweepSuccess(t.ctx, tick('nightly'), start);
  // A good tick, then one that refused to withdraw 60 leavers over a threshold of 50.
  await recordSweepSuccess(t.ctx, tick('leavers'), start);
  await recordSweepSuccess(
    t.ctx,
    tick('leavers', { found: 0, massWithdrawal: { count: 60, threshold: 50, blocked: true } }),
    start + 1000,
  );
  await recordSweepFailure(t.ctx, 'broken', start + 2000, 'Entra users read failed on page 1: HTTP 403');
  // A status left by a schedule no longer defined is not reported as one.
  await recordSweepSuccess(t.ctx, tick('removed-meanwhile'), start);
});
afterAll(async () => {
  await t?.close();
});

describe('GET /v1/queues schedules and notify', () => {
  it('lists every schedule as healthy, failing with its reason, or not run yet', async () => {
    const res = await t.app.inject({ url: '/v1/queues', headers: bearer(KEYS.viewer) });
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      schedules: Record<string, Record<string, unknown>>;
      notify: Record<string, number>;
    };
    expect(Object.keys(body.schedules).sort()).toEqual(
      ['broken', 'constructor', 'fresh', 'leavers', 'nightly'].sort(),
    );
    expect(body.schedules.nightly).toMatchObject({
      state: 'healthy',
      lastFailureAt: null,
      lastFailureReason: null,
    });
    expect(body.schedules.nightly?.lastSuccessAt).toEqual(expect.any(String));
    expect(body.schedules.leavers).toMatchObject({
      state: 'failing',
      lastFailureReason: expect.stringMatching(
        /^mass_withdrawal: 60 pending leavers would be withdrawn at once \(more than GUARD_THRESHOLD=50\)/,
      ),
    });
    expect(body.schedules.broken).toMatchObject({
      state: 'failing',
      lastSuccessAt: null,
      lastFailureReason: 'Entra users read failed on page 1: HTTP 403',
    });
    for (const name of ['fresh', 'constructor']) {
      expect(body.schedules[name]).toEqual({
        state: 'not_run',
        lastSuccessAt: null,
        lastFailureAt: null,
        lastFailureReason: null,
      });
    }
    expect(body.notify).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
  });

  it('declares notify and schedules in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json() as {
      paths: Record<
        string,
        Record<
          string,
          { responses: Record<string, { content: Record<string, { schema: Record<string, unknown> }> }> }
        >
      >;
    };
    const ref = doc.paths['/v1/queues']?.get?.responses['200']?.content['application/json']?.schema as {
      $ref: string;
    };
    // Bodies are named components (src/api/openapi/components.ts).
    const schema = (doc as unknown as { components: { schemas: Record<string, unknown> } }).components
      .schemas[ref.$ref.replace('#/components/schemas/', '')] as {
      properties: Record<string, { type?: string; additionalProperties?: unknown }>;
    };
    expect(schema.properties.notify).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'integer' },
    });
    expect(schema.properties.schedules).toMatchObject({
      type: 'object',
      additionalProperties: {
        properties: { state: { enum: ['healthy', 'failing', 'not_run'] }, lastFailureReason: {} },
      },
    });
  });

  it('the refused mass withdrawal shows as a failing sweep on /metrics (what the alert compares)', async () => {
    const text = (await t.app.inject({ url: '/metrics', headers: bearer(KEYS.viewer) })).body;
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{schedule="leavers"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    const failure = value('offboard_sweep_last_failure_timestamp_seconds');
    const success = value('offboard_sweep_last_success_timestamp_seconds');
    expect(failure).toBeGreaterThan(success);
    expect(success).toBeGreaterThan(0);
  });

  it('stays viewer-only: no key, a wrong key and a producer key get nothing', async () => {
    const none = await t.app.inject({ url: '/v1/queues' });
    expect(none.statusCode).toBe(401);
    const wrong = await t.app.inject({ url: '/v1/queues', headers: bearer(`${KEYS.viewer}x`) });
    expect(wrong.statusCode).toBe(401);
    const producer = await t.app.inject({ url: '/v1/queues', headers: bearer(KEYS.producer) });
    expect(producer.statusCode).toBe(403);
    for (const res of [none, wrong, producer]) expect(res.body).not.toContain('mass_withdrawal');
    const operator = await t.app.inject({ url: '/v1/queues', headers: bearer(KEYS.operator) });
    expect(operator.statusCode).toBe(200);
    expect(operator.json().schedules.leavers.state).toBe('failing');
  });
});
