// Issue 19 item 4: Lifecycle Workflows callbacks can be neither completed by a dry run nor lost to
// another producer's duplicate. A live API (two producer keys) and an in-process worker on a real
// Redis, with the Graph simulator's resume endpoint recording every resume it receives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configLine } from '../../src/api/auth/keys.js';
import type { RunningApi } from '../../src/api/server.js';
import { DRY_RUN_RESUME_NOTE } from '../../src/notify/resume-rule.js';
import { readAudit } from '../../src/records/audit.js';
import { apiKeysEnv, bearer, KEYS, liveApi } from '../api/helpers.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import {
  closeQueueContext,
  type InProcessWorker,
  openContext,
  startTestWorker,
  uniquePrefix,
  waitFor,
  workerConfig,
} from '../helpers/worker.js';

const W = '44444444-aaaa-4bbb-8ccc-000000000001';
const T = '55555555-aaaa-4bbb-8ccc-000000000002';
const resultId = (n: number) => `66666666-aaaa-4bbb-8ccc-${String(n).padStart(12, '0')}`;
const callback = (n: number) =>
  `/identityGovernance/lifecycleWorkflows/workflows/${W}/tasks/${T}/taskProcessingResults/${resultId(n)}/microsoft.graph.identityGovernance.resume`;
const OTHER_PRODUCER = 'obk_test-producer2-key-0123456789abcdefghijklmno';

let redis: TestRedis;
let sim: TestSimulator;
beforeAll(async () => {
  [redis, sim] = await Promise.all([startRedis(), startTestSimulator()]);
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

const callsFor = (n: number) => sim.lifecycle().filter((c) => c.taskProcessingResultId === resultId(n));

/** API and worker on one fresh prefix. */
async function stack(env: Record<string, string> = {}) {
  const prefix = uniquePrefix(redis.prefix);
  const keys = `${apiKeysEnv()},${configLine('workflow-b', 'producer', OTHER_PRODUCER)}`;
  const api: RunningApi = await liveApi(redis, { QUEUE_PREFIX: prefix, API_KEYS: keys, ...env });
  const config = workerConfig(redis, sim, prefix, { EVIDENCE: 'off', ...env });
  const worker: InProcessWorker = await startTestWorker(config, {
    notify: { backoffBaseMs: 200, backoffCapMs: 1000 },
  });
  const ctx = openContext(config);
  const post = async (key: string, body: unknown, path = '/v1/offboardings') => {
    const res = await fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const jobCount = async () =>
    Object.values(
      await ctx.retire.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed'),
    ).reduce((a, b) => a + b, 0);
  return {
    ctx,
    post,
    jobCount,
    async close() {
      await worker.close();
      await api.close();
      await closeQueueContext(ctx);
    },
  };
}

describe('a dry run never resumes a workflow task completed', () => {
  it('refuses dryRun with callbackUriPath (400, nothing enqueued), alone, as a batch item and under a batch dryRun', async () => {
    const s = await stack();
    try {
      const before = await s.jobCount();
      const one = await s.post(KEYS.producer, {
        user: 'decoy@contoso.com',
        dryRun: true,
        callbackUriPath: callback(1),
      });
      expect(one.status).toBe(400);
      expect(JSON.stringify(one.body)).toMatch(/dryRun cannot be combined with callbackUriPath/);

      const batch = await s.post(
        KEYS.producer,
        {
          items: [
            { user: 'decoy2@contoso.com', dryRun: true, callbackUriPath: callback(2) },
            { user: 'plain-dry@contoso.com', dryRun: true },
          ],
        },
        '/v1/offboardings/batch',
      );
      expect(batch.status).toBe(202);
      const results = batch.body.results as { status: string; user?: string }[];
      expect(results.map((r) => r.status)).toEqual(['invalid', 'accepted']);

      const batchDry = await s.post(
        KEYS.producer,
        { dryRun: true, items: [{ user: 'decoy3@contoso.com', callbackUriPath: callback(3) }] },
        '/v1/offboardings/batch',
      );
      expect(batchDry.status).toBe(400);
      // Only the plain dry run was stored.
      expect((await s.jobCount()) - before).toBe(1);
      await new Promise((r) => setTimeout(r, 500));
      expect([...callsFor(1), ...callsFor(2), ...callsFor(3)]).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('under a global DRY_RUN the task is resumed failed, saying nothing was retired', async () => {
    const s = await stack({ DRY_RUN: 'true' });
    try {
      const res = await s.post(KEYS.producer, { user: 'trial@contoso.com', callbackUriPath: callback(4) });
      expect(res.status).toBe(202);
      await waitFor(() => callsFor(4).length === 1, { what: 'the dry-run resume', timeoutMs: 20_000 });
      const [call] = callsFor(4);
      expect(call).toMatchObject({ operationStatus: 'failed', status: 204 });
      expect(call?.source).toContain('nothing was retired');
      expect(sim.stats().graph.byUser['trial@contoso.com'] ?? 0).toBe(0);
      const resumed = async () =>
        (await readAudit(s.ctx, { count: 200 })).find(
          (a) => a.type === 'notified' && a.details?.kind === 'resume',
        );
      await waitFor(async () => (await resumed()) !== undefined, { what: 'the resume audited' });
      const notified = await resumed();
      expect(notified?.details).toMatchObject({ operationStatus: 'failed', note: DRY_RUN_RESUME_NOTE });
    } finally {
      await s.close();
    }
  });
});

describe('every callback attached to a job is resumed once with its real outcome', () => {
  it("two producers' duplicates with different callbacks: both resumed, each once, with the job's outcome", async () => {
    const s = await stack();
    try {
      sim.control({ script: { 'lw-dead2@contoso.com': [404] } });
      const soon = new Date(Date.now() + 2_500).toISOString();
      for (const [user, a, b] of [
        ['lw-both@contoso.com', 10, 11],
        ['lw-dead2@contoso.com', 12, 13],
      ] as const) {
        const first = await s.post(KEYS.producer, { user, effectiveAt: soon, callbackUriPath: callback(a) });
        expect(first.status).toBe(202);
        const second = await s.post(OTHER_PRODUCER, {
          user,
          effectiveAt: soon,
          callbackUriPath: callback(b),
        });
        // Another producer's job reads as its own accepted request (issue 19 item 11), callback attached.
        expect(second.status).toBe(202);
        expect(second.body).toMatchObject({
          duplicate: false,
          callbackAttached: true,
          callbackReason: 'attached',
        });
        const again = await s.post(OTHER_PRODUCER, { user, effectiveAt: soon, callbackUriPath: callback(b) });
        expect(again.body).toMatchObject({ callbackAttached: true, callbackReason: 'already_attached' });
        const job = await s.ctx.retire.getJob(String(first.body.id));
        expect(job?.data.callbackUriPath).toBe(callback(a));
        expect(job?.data.callbackUriPaths).toEqual([callback(b)]);
      }
      await waitFor(() => [10, 11, 12, 13].every((n) => callsFor(n).length === 1), {
        what: 'four resumes',
        timeoutMs: 30_000,
      });
      await new Promise((r) => setTimeout(r, 1_000));
      for (const n of [10, 11])
        expect(callsFor(n)).toMatchObject([{ operationStatus: 'completed', status: 204 }]);
      for (const n of [12, 13])
        expect(callsFor(n)).toMatchObject([{ operationStatus: 'failed', status: 204 }]);
    } finally {
      await s.close();
    }
  });

  it('caps the callbacks of one job and says why a callback was not attached', async () => {
    const s = await stack();
    try {
      const later = new Date(Date.now() + 7 * 86_400_000).toISOString();
      const user = 'lw-many@contoso.com';
      const first = await s.post(KEYS.producer, { user, effectiveAt: later, callbackUriPath: callback(100) });
      expect(first.status).toBe(202);
      for (let n = 101; n < 110; n++) {
        const dup = await s.post(OTHER_PRODUCER, { user, effectiveAt: later, callbackUriPath: callback(n) });
        expect(dup.body).toMatchObject({ callbackAttached: true, callbackReason: 'attached' });
      }
      const over = await s.post(OTHER_PRODUCER, { user, effectiveAt: later, callbackUriPath: callback(110) });
      expect(over.status).toBe(200);
      expect(over.body).toMatchObject({
        duplicate: true,
        callbackAttached: false,
        callbackReason: 'limit_reached',
      });
      const job = await s.ctx.retire.getJob(String(first.body.id));
      expect(1 + (job?.data.callbackUriPaths?.length ?? 0)).toBe(10);
      // A duplicate without a callback says nothing about callbacks.
      const plain = await s.post(OTHER_PRODUCER, { user, effectiveAt: later });
      expect(plain.body).not.toHaveProperty('callbackAttached');
    } finally {
      await s.close();
    }
  });
});
