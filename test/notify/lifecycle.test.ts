// Lifecycle Workflows: the simulator's resume endpoint, and offboard resuming a waiting workflow task
// when the leaver's outcome is final — at once with evidence off, only after verification with it on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { notifyCounts } from '../../src/notify/queue.js';
import { readAudit } from '../../src/records/audit.js';
import { readMetrics } from '../../src/records/metrics.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { fetchAppToken, startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import {
  closeQueueContext,
  openContext,
  startTestWorker,
  uniquePrefix,
  waitFor,
  workerConfig,
} from '../helpers/worker.js';

const W = '11111111-aaaa-4bbb-8ccc-000000000001';
const T = '22222222-aaaa-4bbb-8ccc-000000000002';
const callback = (n: number) =>
  `/identityGovernance/lifecycleWorkflows/workflows/${W}/tasks/${T}/taskProcessingResults/33333333-aaaa-4bbb-8ccc-${String(n).padStart(12, '0')}/microsoft.graph.identityGovernance.resume`;
const resultId = (n: number) => `33333333-aaaa-4bbb-8ccc-${String(n).padStart(12, '0')}`;

let redis: TestRedis;
let sim: TestSimulator;
beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

const callsFor = (n: number) => sim.lifecycle().filter((c) => c.taskProcessingResultId === resultId(n));

describe('simulator: the Lifecycle Workflows resume endpoint', () => {
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${sim.graphBaseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const good = { data: { operationStatus: 'completed' }, source: 'test', type: 'lifecycleEvent' };

  it('answers 204 to a valid resume and records it; refuses what Graph would refuse', async () => {
    const token = await fetchAppToken(sim);
    const ok = await post(callback(1), good, token);
    expect(ok.status).toBe(204);
    expect(callsFor(1)).toMatchObject([
      { workflowId: W, taskId: T, operationStatus: 'completed', source: 'test', status: 204 },
    ]);
    const recorded = (await (await fetch(`${sim.controlUrl}/lifecycle`)).json()) as { calls: unknown[] };
    expect(recorded.calls.length).toBe(sim.lifecycle().length);

    expect((await post(callback(2), good)).status).toBe(401);
    expect((await post(callback(2), good, 'not-a-token')).status).toBe(401);
    for (const bad of [
      { ...good, type: 'other' },
      { ...good, data: { operationStatus: 'done' } },
      { source: 'x', type: 'lifecycleEvent' },
      'not json',
    ]) {
      expect((await post(callback(2), bad, token)).status).toBe(400);
    }
    expect((await post(`${callback(2)}?x=1`, good, token)).status).toBe(400);
    expect((await post(callback(2).replace(W, 'workflow-1'), good, token)).status).toBe(400);
    sim.control({ permissions: { deny: ['LifecycleWorkflows.ReadWrite.All'] } });
    try {
      expect((await post(callback(2), good, token)).status).toBe(403);
    } finally {
      sim.control({ permissions: { grant: ['LifecycleWorkflows.ReadWrite.All'] } });
    }
    expect(callsFor(2)).toEqual([]);
  });
});

describe('offboard resumes the waiting workflow', () => {
  async function stack(env: Record<string, string>) {
    const prefix = uniquePrefix(redis.prefix);
    const config: Config = workerConfig(redis, sim, prefix, env);
    const worker = await startTestWorker(config, { notify: { backoffBaseMs: 200, backoffCapMs: 1000 } });
    const ctx = openContext(config);
    const submit = (user: string, n: number) =>
      enqueue(ctx, { user, callbackUriPath: callback(n) }, { requestedBy: 'logic-app', source: 'api' });
    return {
      ctx,
      submit,
      async close() {
        await worker.close();
        await closeQueueContext(ctx);
      },
    };
  }

  it('evidence off: completed after the retire, failed after a dead letter; retried through 503; stops on 404', async () => {
    const s = await stack({ EVIDENCE: 'off' });
    try {
      sim.control({ script: { 'lw-dead@contoso.com': [404] }, lifecycle: { script: [503] } });
      const retired = await s.submit('lw-retired@contoso.com', 10);
      await waitFor(() => callsFor(10).some((c) => c.status === 204), {
        what: 'the resume after the retire',
      });
      // The first attempt met the scripted 503, the retry got through.
      expect(callsFor(10).map((c) => [c.status, c.operationStatus])).toEqual([
        [503, 'completed'],
        [204, 'completed'],
      ]);
      expect(callsFor(10)[1]?.source).toBe('offboard');
      const job = await s.ctx.retire.getJob(retired.id);
      expect(job?.returnvalue?.outcome).toBe('retired');
      expect(callsFor(10)[1]?.at).toBeGreaterThanOrEqual(job?.finishedOn ?? Number.POSITIVE_INFINITY);

      await s.submit('lw-dead@contoso.com', 11);
      await waitFor(() => callsFor(11).length > 0, { what: 'the resume after the dead letter' });
      expect(callsFor(11)).toMatchObject([{ operationStatus: 'failed', status: 204 }]);

      // A task Graph no longer knows (404): stop at once, recorded as a notify dead letter.
      sim.control({ lifecycle: { script: [404] } });
      await s.submit('lw-gone@contoso.com', 12);
      await waitFor(async () => (await notifyCounts(s.ctx)).failed === 1, { what: 'the resume given up' });
      expect(callsFor(12)).toHaveLength(1);

      const audit = await readAudit(s.ctx, { count: 500 });
      const resumes = audit.filter((a) => a.details?.kind === 'resume');
      expect(
        resumes
          .filter((a) => a.type === 'notified')
          .map((a) => a.user)
          .sort(),
      ).toEqual(['lw-dead@contoso.com', 'lw-retired@contoso.com']);
      expect(resumes.find((a) => a.type === 'notify-failed')).toMatchObject({
        user: 'lw-gone@contoso.com',
        details: { status: 404, permanent: true },
      });
      await waitFor(
        async () => {
          const m = await readMetrics(s.ctx.redis, s.ctx.prefix);
          return (
            m['notify:resume:ok'] === 2 && m['notify:resume:retry'] === 1 && m['notify:resume:failed'] === 1
          );
        },
        { what: 'the resume counters' },
      );
    } finally {
      await s.close();
    }
  });

  it('evidence on: a retire with devices resumes only once verification has ended', async () => {
    const s = await stack({ EVIDENCE: 'on', VERIFY_AFTER: '1s' });
    try {
      sim.control({
        devices: { 'lw-verify@contoso.com': 2, 'lw-nodev@contoso.com': 0 },
        retireDelayMs: 1500,
      });
      const job = await s.submit('lw-verify@contoso.com', 20);
      await s.submit('lw-nodev@contoso.com', 21);
      await waitFor(async () => (await s.ctx.retire.getJob(job.id))?.finishedOn, { what: 'the retire done' });
      // No devices: final at once.
      await waitFor(() => callsFor(21).length > 0, { what: 'the no_devices resume' });
      expect(callsFor(21)).toMatchObject([{ operationStatus: 'completed', status: 204 }]);
      // Retired with devices: the workflow waits while the devices are still retirePending.
      expect(callsFor(20)).toEqual([]);
      await waitFor(() => callsFor(20).length > 0, {
        what: 'the resume after verification',
        timeoutMs: 60_000,
      });
      expect(callsFor(20)).toMatchObject([{ operationStatus: 'completed', status: 204 }]);
      const audit = await readAudit(s.ctx, { count: 500 });
      const verified = audit.find((a) => a.type === 'verified' && a.user === 'lw-verify@contoso.com');
      expect(verified).toBeTruthy();
      expect(Date.parse(String(verified?.at))).toBeLessThanOrEqual(callsFor(20)[0]?.at ?? 0);
    } finally {
      await s.close();
    }
  });
});
