// The dashboard is deny by default: every route the installed Bull Board registers is enumerated from
// the package itself, and every one that is not a read is tried on both boards with both browser roles.
// Only the operator's pause/resume of the retire queue gets through, through the audited control path.
import { createRequire } from 'node:module';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCircuit } from '../../src/control/queue-control.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { RETIRE_QUEUE } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { deadLetterFor } from '../helpers/dead-letter.js';
import { KEYS, type TestApi, testApp } from './helpers.js';

const require = createRequire(import.meta.url);
const { appRoutes } = require('@bull-board/api/dist/routes.js') as {
  appRoutes: { entryPoint: { method: string; route: string[] }; api: { method: string; route: string }[] };
};

const basic = (key: string) => ({
  authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}`,
  origin: 'http://localhost:80',
  host: 'localhost:80',
  'sec-fetch-site': 'same-origin',
});

let t: TestApi;
let completedId: string;
let delayedId: string;
let deadLetterId: string;

async function snapshot() {
  const counts = await t.ctx.retire.getJobCounts('completed', 'delayed', 'waiting', 'failed');
  const dl = await t.ctx.deadLetter.getJobCounts('waiting', 'completed', 'failed');
  const delayed = await t.ctx.retire.getJob(delayedId);
  const audit = await t.ctx.redis.xrange(`${t.ctx.prefix}:offboard:audit`, '-', '+');
  return { counts, dl, delay: delayed?.delay, delayedState: await delayed?.getState(), audit: audit.length };
}

beforeAll(async () => {
  t = await testApp();
  // A finished leaver (the "retry all completed" attack), a leaver due next year (promote), a dead letter.
  completedId = (await enqueue(t.ctx, { user: 'done@contoso.com' }, { requestedBy: 'seed', source: 'cli' }))
    .id;
  const connection = new Redis(t.redis.url, { maxRetriesPerRequest: null });
  const worker = new Worker(RETIRE_QUEUE, async () => ({ outcome: 'retired' }), {
    connection,
    prefix: t.ctx.prefix,
  });
  await new Promise<void>((resolve) => worker.on('completed', () => resolve()));
  await worker.close();
  connection.disconnect();
  const nextYear = new Date(Date.now() + 300 * 86_400_000).toISOString();
  delayedId = (
    await enqueue(
      t.ctx,
      { user: 'later@contoso.com', effectiveAt: nextYear },
      { requestedBy: 'seed', source: 'cli' },
    )
  ).id;
  deadLetterId = (await deadLetterFor(t.ctx, 'dead@contoso.com', 'not_found')).id;
});
afterAll(async () => t.close());

function fill(path: string, queueName: string): string {
  return path
    .replace(':queueName', queueName)
    .replace(':jobId', queueName === RETIRE_QUEUE ? completedId : deadLetterId)
    .replace(':queueStatus', 'completed')
    .replace(':schedulerId', 'nightly');
}

describe('dashboard deny by default', () => {
  it('classifies every route the installed Bull Board registers, on both boards', () => {
    const registered = t.app.dashboardRoutes;
    const apiRoutes = appRoutes.api.flatMap((r) =>
      ([] as string[]).concat(r.route).map((p) => ({ m: r.method, p })),
    );
    expect(apiRoutes.length).toBeGreaterThan(30);
    for (const board of ['viewer', 'operator'] as const) {
      for (const { m, p } of apiRoutes) {
        const seen = registered.find(
          (r) => r.board === board && r.path === p && r.methods.includes(m.toUpperCase()),
        );
        expect(seen, `${board} ${m} ${p}`).toBeDefined();
        if (m !== 'get') expect(seen?.policy, `${board} ${m} ${p}`).not.toBe('read');
      }
    }
    const allowed = registered.filter((r) => r.policy === 'pause' || r.policy === 'resume');
    expect(allowed.map((r) => `${r.board} ${r.path}`).sort()).toEqual([
      'operator /api/queues/:queueName/pause',
      'operator /api/queues/:queueName/resume',
    ]);
    expect(registered.find((r) => r.board === 'viewer' && r.path === '/api/redis/stats')?.policy).toBe(
      'deny',
    );
  });

  it('a viewer cannot pause or resume (pause-all, resume-all) and so cannot close an open circuit', async () => {
    await openCircuit(t.ctx, { code: 'forbidden_many', reason: 'test' });
    for (const board of ['viewer', 'operator']) {
      for (const action of ['pause', 'resume']) {
        const res = await t.app.inject({
          method: 'PUT',
          url: `/dashboard/${board}/api/queues/${action}`,
          headers: basic(KEYS.viewer),
        });
        expect(res.statusCode, `${board} ${action}`).toBe(403);
      }
    }
    // Readiness is not tied to the circuit (issue 19 item 7); it is still reported there.
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.circuit).toBe('open');
    expect(await t.ctx.retire.isPaused()).toBe(true);
  });

  it('refuses every non-read route on both boards for viewers and operators, changing nothing', async () => {
    const before = await snapshot();
    const targets = t.app.dashboardRoutes.filter((r) => r.policy !== 'read');
    expect(targets.length).toBeGreaterThan(40);
    let tried = 0;
    for (const r of targets) {
      for (const method of r.methods) {
        for (const who of ['viewer', 'operator'] as const) {
          for (const queueName of [RETIRE_QUEUE, 'dead-letter']) {
            if (
              r.policy !== 'deny' &&
              who === 'operator' &&
              r.board === 'operator' &&
              queueName === RETIRE_QUEUE
            )
              continue; // the one allowed action, tested below
            const res = await t.app.inject({
              method: method as 'PUT',
              url: `/dashboard/${r.board}${fill(r.path, queueName)}`,
              headers: { ...basic(KEYS[who]), 'content-type': 'application/json' },
              payload: JSON.stringify({
                name: 'x',
                data: { user: 'evil@contoso.com' },
                concurrency: 1,
                delay: 0,
              }),
            });
            tried++;
            expect(res.statusCode, `${who} ${method} ${r.board}${r.path} ${queueName}`).toBe(403);
          }
        }
      }
    }
    expect(tried).toBeGreaterThan(100);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses Redis INFO on the viewer board and serves it to operators', async () => {
    const viewer = await t.app.inject({
      url: '/dashboard/viewer/api/redis/stats',
      headers: basic(KEYS.viewer),
    });
    expect(viewer.statusCode).toBe(403);
    const op = await t.app.inject({
      url: '/dashboard/operator/api/redis/stats',
      headers: basic(KEYS.operator),
    });
    expect(op.statusCode).toBe(200);
  });

  it('lets an operator pause and resume the retire queue through the audited path', async () => {
    const pause = await t.app.inject({
      method: 'PUT',
      url: '/dashboard/operator/api/queues/retire/pause',
      headers: basic(KEYS.operator),
    });
    expect(pause.statusCode).toBe(200);
    const resume = await t.app.inject({
      method: 'PUT',
      url: '/dashboard/operator/api/queues/retire/resume',
      headers: basic(KEYS.operator),
    });
    expect(resume.statusCode).toBe(200);
    expect(await t.ctx.retire.isPaused()).toBe(false);
    const audit = await readAudit(t.ctx, { count: 2 });
    expect(audit.reverse().map((e) => [e.type, e.actor])).toEqual([
      ['paused', 'ops-alice'],
      ['resumed', 'ops-alice'],
    ]);
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});
