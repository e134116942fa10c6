// Done-when of issue 22: three tenants at once through real Redis, a real worker (MSAL per tenant
// authority) and the simulator over HTTP. One tenant is throttled (429 Retry-After), one lost consent
// (AADSTS65001 at its token endpoint), one is healthy. The healthy one finishes at its full pace, the
// throttled one waits out its window without a single call inside it and without holding worker
// slots, the revoked one's circuit opens alone (its jobs parked, the queue not paused) and resumes alone
// through POST /v1/tenants/{name}/resume; no job is lost.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { configLine } from '../../src/api/auth/keys.js';
import type { Config } from '../../src/config/load.js';
import { getCircuit } from '../../src/control/queue-control.js';
import { retireJobOptions } from '../../src/intake/enqueue.js';
import type { RetireJobData } from '../../src/interfaces.js';
import { createLogger } from '../../src/log.js';
import type { QueueContext } from '../../src/queue/context.js';
import { tenantKeys } from '../../src/tenants/registry.js';
import { turnDelaysFor } from '../../src/tenants/turns.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import {
  closeQueueContext,
  type InProcessWorker,
  openContext,
  startTestWorker,
  waitFor,
  waitForOutcomes,
} from '../helpers/worker.js';

const HEALTHY = { name: 'healthy', id: '11111111-2222-4333-8444-555555555555' };
const THROTTLED = { name: 'throttled', id: '22222222-3333-4444-8555-666666666666' };
const REVOKED = { name: 'revoked', id: '33333333-4444-4555-8666-777777777777' };
const RATE = { limit: 20, windowMs: 1000 };
const HEALTHY_JOBS = 80;
const OPERATOR_KEY = 'obk_test-tenants-operator-0123456789abcdefghijk';
const SCOPED_KEY = 'obk_test-tenants-scoped-op-0123456789abcdefghijk';

let redis: TestRedis;
let sim: TestSimulator;
let config: Config;
let ctx: QueueContext;
let worker: InProcessWorker;
let api: FastifyInstance;

/** Jobs of one tenant, as the intake writes them (options, the tenant's turns). */
async function addJobs(tenant: string, count: number): Promise<string[]> {
  const data: RetireJobData[] = Array.from({ length: count }, (_, i) => ({
    user: `u${i}-${randomUUID().slice(0, 6)}@${tenant}.example`,
    dryRun: false,
    correlationId: randomUUID(),
    requestedBy: 'test',
    requestedAt: new Date().toISOString(),
    source: 'api',
    tenant,
  }));
  const turns = await turnDelaysFor(ctx, data);
  const jobs = await ctx.retire.addBulk(
    data.map((d, i) => {
      const opts = retireJobOptions(ctx, randomUUID(), d);
      return { name: 'retire', data: d, opts: turns[i] ? { ...opts, delay: turns[i] } : opts };
    }),
  );
  return jobs.map((j) => j.id as string);
}

const tenantStats = (id: string) => sim.stats({ log: false }).tenants?.[id];

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator({
    violationGraceMs: 25,
    limit: { ...RATE },
    tenants: { [HEALTHY.id]: {}, [THROTTLED.id]: {}, [REVOKED.id]: {} },
  });
  const dir = mkdtempSync(join(tmpdir(), 'offboard-three-tenants-'));
  const file = join(dir, 'tenants.yaml');
  writeFileSync(
    file,
    `tenants:\n${[HEALTHY, THROTTLED, REVOKED]
      .map((t) => `  - { name: ${t.name}, id: ${t.id}, rateLimit: ${RATE.limit}/${RATE.windowMs}ms }`)
      .join('\n')}\n`,
  );
  config = testConfig(
    {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
      ...sim.env(),
      TENANTS_FILE: file,
      // Few slots on purpose: a throttled tenant's jobs holding them would starve the healthy one.
      WORKER_CONCURRENCY: '4',
      RETRY_BASE: '50ms',
      RETRY_CAP: '1s',
      GRAPH_TIMEOUT: '5s',
      EVIDENCE: 'off',
      API_KEYS: [
        configLine('ops', 'operator', OPERATOR_KEY),
        `${configLine('ops-healthy', 'operator', SCOPED_KEY)}:${HEALTHY.name}`,
      ].join(','),
      API_HOST: '127.0.0.1',
      API_RATE_LIMIT: '100000',
    },
    { needAuth: true, needApi: true },
  );
  ctx = openContext(config);
  api = await buildApp(config, { logger: createLogger({ level: 'silent' }) });
  await api.ready();
});

afterAll(async () => {
  await worker?.close();
  await api?.close();
  if (ctx) await closeQueueContext(ctx);
  await sim?.close();
  await redis?.stop();
});

describe('three tenants at once', () => {
  it('isolates a throttled and a revoked tenant from a healthy one, which runs at its full pace', async () => {
    // The throttled tenant's first call gets 429 Retry-After: 2; the revoked one cannot get a token.
    sim.control({
      tenants: {
        [THROTTLED.id]: { throttle: { retryAfter: '2', calls: 1 } },
        [REVOKED.id]: { consent: 'consentRequired' },
      },
    });
    // Enqueued first: the throttled and revoked tenants' jobs are ahead of the healthy one's.
    const throttledIds = await addJobs(THROTTLED.name, 20);
    const revokedIds = await addJobs(REVOKED.name, 10);
    const healthyIds = await addJobs(HEALTHY.name, HEALTHY_JOBS);
    worker = await startTestWorker(config);

    const healthy = await waitForOutcomes(ctx, healthyIds, 30_000);
    expect(healthy.every((o) => o.record?.outcome === 'retired')).toBe(true);
    const h = tenantStats(HEALTHY.id);
    expect(h?.succeeded).toBe(HEALTHY_JOBS);
    // The pacer aims 3 % under the simulator's exact sliding window; one call delayed by the event loop
    // (another tenant's work in the same process, a loaded machine) can put 21 arrivals in one second:
    // at most one such 429 (it is waited out like any other; the bench's throttled scenario counts them).
    expect(h?.throttled ?? 0).toBeLessThanOrEqual(1);
    // Full pace: the pacer aims at 20/s × 0.97 headroom. Measured once the tenant runs (from its 10th
    // call): its first token (MSAL discovery and token on a shared, loaded test machine) comes first.
    const arrivals = Object.values(sim.stats().tenants?.[HEALTHY.id]?.firstCallByUser ?? {}).sort(
      (a, b) => a - b,
    );
    expect(arrivals).toHaveLength(HEALTHY_JOBS);
    const paceOf = (from: number) =>
      (arrivals.length - 1 - from) / (((arrivals.at(-1) ?? 0) - (arrivals[from] ?? 0)) / 1000);
    const perSecond = paceOf(9);
    console.log(
      `healthy tenant: ${perSecond.toFixed(2)} calls/s from its 10th call (${paceOf(0).toFixed(2)} from its first) against ${RATE.limit}/s × 0.97`,
    );
    // 0.8: a missed slot now and then on a test machine shared by many processes (load far above
    // its cores) costs a few percent; a tenant held up by the others would run at a fraction.
    expect(perSecond).toBeGreaterThan(RATE.limit * 0.97 * 0.8);
    expect(perSecond).toBeLessThanOrEqual(RATE.limit * 1.02);

    // The throttled tenant waited out its window and finished; nobody called inside a window.
    const throttled = await waitForOutcomes(ctx, throttledIds, 30_000);
    expect(throttled.every((o) => o.record?.outcome === 'retired')).toBe(true);
    const t = tenantStats(THROTTLED.id);
    // Its one scripted 429 (a call already on the wire when it was announced may get one more).
    expect(t?.throttled).toBeGreaterThanOrEqual(1);
    expect(t?.throttled).toBeLessThanOrEqual(2);
    expect(t?.succeeded).toBe(20);
    for (const id of [HEALTHY.id, THROTTLED.id, REVOKED.id]) {
      expect(tenantStats(id)?.insideRetryAfterWindow).toBe(0);
    }

    // The revoked tenant: its own circuit is open and its jobs parked; the deployment's circuit and
    // queue are untouched.
    const list = await api.inject({
      method: 'GET',
      url: '/v1/tenants',
      headers: { authorization: `Bearer ${OPERATOR_KEY}` },
    });
    expect(list.statusCode).toBe(200);
    const byName = Object.fromEntries(
      (
        list.json() as {
          tenants: { name: string; circuit: { open: boolean; code?: string }; parked: number }[];
        }
      ).tenants.map((x) => [x.name, x]),
    );
    expect(byName.revoked?.circuit).toMatchObject({ open: true, code: 'consent_required' });
    expect(byName.healthy?.circuit.open).toBe(false);
    expect(byName.throttled?.circuit.open).toBe(false);
    await waitFor(async () => (await ctx.redis.zcard(tenantKeys.parked(ctx.prefix, REVOKED.name))) === 10, {
      what: 'the revoked tenant jobs to be parked',
    });
    expect((await getCircuit(ctx)).open).toBe(false);
    expect(await ctx.retire.isPaused()).toBe(false);
    expect(tenantStats(REVOKED.id)?.calls).toBe(0);

    // A key scoped to the healthy tenant neither sees nor resumes the revoked one.
    const scopedList = await api.inject({
      method: 'GET',
      url: '/v1/tenants',
      headers: { authorization: `Bearer ${SCOPED_KEY}` },
    });
    expect((scopedList.json() as { tenants: { name: string }[] }).tenants.map((x) => x.name)).toEqual([
      HEALTHY.name,
    ]);
    const denied = await api.inject({
      method: 'POST',
      url: `/v1/tenants/${REVOKED.name}/resume`,
      headers: { authorization: `Bearer ${SCOPED_KEY}`, 'content-type': 'application/json' },
      payload: {},
    });
    expect(denied.statusCode).toBe(404);
    expect(await ctx.redis.exists(tenantKeys.circuit(ctx.prefix, REVOKED.name))).toBe(1);

    // Consent granted again; the operator resumes that tenant alone and its parked jobs run.
    sim.control({ tenants: { [REVOKED.id]: { consent: 'granted' } } });
    const resumed = await api.inject({
      method: 'POST',
      url: `/v1/tenants/${REVOKED.name}/resume`,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      payload: {},
    });
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json()).toMatchObject({ tenant: REVOKED.name, circuitWasOpen: true, promoted: 10 });
    const revoked = await waitForOutcomes(ctx, revokedIds, 30_000);
    expect(revoked.every((o) => o.record?.outcome === 'retired')).toBe(true);
    expect(tenantStats(REVOKED.id)?.succeeded).toBe(10);

    // Nothing lost: every job retired, no dead letter; the resume is audited with its tenant.
    const counts = await ctx.retire.getJobCounts('completed', 'failed', 'waiting', 'delayed', 'active');
    expect(counts).toMatchObject({
      completed: HEALTHY_JOBS + 30,
      failed: 0,
      waiting: 0,
      delayed: 0,
      active: 0,
    });
    expect(await ctx.deadLetter.count()).toBe(0);
    const audit = await ctx.redis.xrange(`${ctx.prefix}:offboard:audit`, '-', '+');
    const kinds = audit.map(([, fields]) => fields.join(' '));
    expect(kinds.some((f) => f.includes('resumed') && f.includes(REVOKED.name))).toBe(true);
    expect(kinds.some((f) => f.includes('circuit-open') && f.includes(REVOKED.name))).toBe(true);
  });
});
