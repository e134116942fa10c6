// The full pipeline on a three-master Redis Cluster: API intake (single requests and a batch held
// by the mass-change guard, then approved) → two workers (one in this process, one `offboard worker`
// child process configured only by REDIS_URL=redis+cluster://…) → the Graph simulator → every
// leaver retired exactly once, nothing dead-lettered.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../../src/api/server.js';
import type { Config } from '../../src/config/load.js';
import { listWorkers } from '../../src/host/heartbeat.js';
import { type RunningWorker, startWorker } from '../../src/host/run-process.js';
import { createLogger } from '../../src/log.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { testConfig } from '../helpers/config.js';
import type { ManagedProcess } from '../helpers/processes.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import { spawnTestWorker, waitFor } from '../helpers/worker.js';

const USERS = Array.from({ length: 50 }, (_, i) => `leaver${String(i).padStart(2, '0')}@contoso.com`);

function apiKey(name: string, role: string): { key: string; entry: string } {
  const key = randomBytes(24).toString('base64url');
  return { key, entry: `${name}:${role}:${createHash('sha256').update(key).digest('hex')}` };
}

let cluster: TestCluster;
let sim: TestSimulator;
let env: Record<string, string>;
let config: Config;
let ctx: QueueContext;
let api: RunningApi | undefined;
let worker: RunningWorker | undefined;
let child: ManagedProcess | undefined;
const producer = apiKey('hr', 'producer');
const operator = apiKey('ops', 'operator');

beforeAll(async () => {
  cluster = await startCluster();
  sim = await startTestSimulator({ latencyMs: 100 });
  env = {
    REDIS_URL: cluster.url,
    QUEUE_PREFIX: cluster.prefix,
    ...sim.env(),
    GRAPH_RATE_LIMIT: '1000/1s',
    WORKER_CONCURRENCY: '4',
    RETRY_BASE: '50ms',
    RETRY_CAP: '1s',
    GRAPH_TIMEOUT: '5s',
    GUARD_THRESHOLD: '20',
    API_KEYS: `${producer.entry},${operator.entry}`,
    API_PORT: '0',
    API_HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    EVIDENCE: 'off',
  };
  config = testConfig(env, { needAuth: true, needApi: true });
  ctx = createQueueContext(config, { name: 'pipeline-test' });
}, 90_000);

afterAll(async () => {
  await child?.stop(20_000);
  await worker?.close();
  await api?.close();
  if (ctx) await closeQueueContext(ctx);
  await sim?.close();
  await cluster?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field by the test
type Json = any;

async function call(
  method: string,
  path: string,
  key: string,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${api?.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...extra,
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

describe('full pipeline on Redis Cluster', () => {
  it('50 leavers through the API are all retired by two workers via the simulator', async () => {
    api = await startApi(config, { logger: createLogger({ level: 'silent' }) });
    worker = await startWorker(config, { logger: createLogger({ level: 'silent' }) });
    child = spawnTestWorker('cluster-worker', env);
    // Both workers joined the fleet on the cluster (heartbeats under the same hash tag).
    await waitFor(async () => (await listWorkers(ctx.redis, ctx.prefix)).length >= 2, {
      timeoutMs: 60_000,
      what: 'the child worker to join on the cluster',
    });

    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { redis: 'ok', circuit: 'closed' } });

    // Ten single requests, then a batch of forty that the guard holds until an operator approves it.
    for (const user of USERS.slice(0, 10)) {
      const r = await call('POST', '/v1/offboardings', producer.key, { user });
      expect(r.status).toBe(202);
    }
    const batch = await call('POST', '/v1/offboardings/batch', producer.key, {
      items: USERS.slice(10).map((user) => ({ user })),
    });
    expect(batch.status).toBe(202);
    expect(batch.json).toMatchObject({ held: true, summary: { held: 40 } });
    const approved = await call(
      'POST',
      `/v1/batches/${batch.json.batch.id}/approve`,
      operator.key,
      undefined,
      {
        'if-match': `"${batch.json.batch.version}"`,
      },
    );
    expect(approved.status).toBe(200);

    await waitFor(async () => (await ctx.retire.getCompletedCount()) === USERS.length, {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `${USERS.length} jobs completed on the cluster`,
    });
    // Both processes did part of the work: the audit names the worker that retired each leaver.
    const retiredBy = new Set(
      (await readAudit(ctx, { count: 1000 })).filter((a) => a.type === 'retired').map((a) => a.actor),
    );
    expect([...retiredBy].some((a) => a.endsWith(`:${child?.pid}`))).toBe(true);
    expect([...retiredBy].some((a) => a.endsWith(`:${process.pid}`))).toBe(true);

    const jobs = await ctx.retire.getJobs(['completed'], 0, -1);
    expect(jobs.map((j) => j.data.user).sort()).toEqual(USERS);
    for (const job of jobs)
      expect(job.returnvalue).toMatchObject({ outcome: 'retired', user: job.data.user });
    expect(await ctx.retire.getFailedCount()).toBe(0);
    expect(await ctx.deadLetter.getWaitingCount()).toBe(0);

    const stats = sim.stats().graph;
    expect(Object.keys(stats.successByUser).sort()).toEqual(USERS);
    expect(Object.values(stats.successByUser).every((n) => n === 1)).toBe(true);

    const queues = await call('GET', '/v1/queues', operator.key);
    expect(queues.status).toBe(200);
    expect(queues.json.retire.completed).toBe(USERS.length);
  });
});
