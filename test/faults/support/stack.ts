// One fault-test environment: a private redis-server (AOF on), the Graph + Entra simulator, the real
// API and two or more real worker processes, plus a test-side view of Redis to assert from.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../../src/queue/context.js';
import { startSimulator } from '../../../src/sim/index.js';
import type { Simulator, SimulatorOptions } from '../../../src/sim/types.js';
import { testConfig } from '../../helpers/config.js';
import {
  ARTIFACTS_DIR,
  type ManagedProcess,
  spawnApi,
  spawnWorker,
  stopAll,
  waitForHttp,
} from '../../helpers/processes.js';
import { freePort, startRedis, type TestRedis } from '../../helpers/redis.js';
import { describeTruth, readTruth, type Truth } from './outcomes.js';
import { sleep, waitFor } from './poll.js';

export interface StackOptions {
  /** Test name: log files are test-artifacts/faults/<group>-<process>.log. */
  group: string;
  /** Worker processes started at once (default 2). */
  workers?: number;
  sim?: SimulatorOptions;
  /** Extra settings for every process (workers and API), over the fault-test defaults. */
  env?: Record<string, string>;
}

export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field in the tests
  body: any;
}

export interface Stack {
  redis: TestRedis;
  sim: Simulator;
  /** Environment the product processes run with. */
  env: Record<string, string>;
  api: ManagedProcess;
  apiUrl: string;
  workers: ManagedProcess[];
  /** Test-side handles on the same Redis (fail-fast client). */
  ctx: QueueContext;
  db: Redis;
  prefix: string;
  startWorker(name: string, env?: Record<string, string>): Promise<ManagedProcess>;
  /** Resolves once BullMQ sees at least `n` worker connections on the retire queue. */
  waitForWorkers(n: number, timeoutMs?: number): Promise<void>;
  call(method: string, path: string, opts?: { role?: Role; body?: unknown }): Promise<ApiAnswer>;
  /** Submits through POST /v1/offboardings/batch (chunks of 1,000); returns user → job id. */
  submitBatch(users: readonly string[]): Promise<Map<string, string>>;
  truth(ids: Iterable<string>): Promise<Truth>;
  /** Waits until every job id is completed with outcome `retired`. */
  waitAllRetired(ids: Iterable<string>, timeoutMs: number): Promise<Truth>;
  close(): Promise<void>;
}

export type Role = 'producer' | 'viewer' | 'operator';

/**
 * A pace of 30 calls/s makes a 1,000-job run take ~35 s on a loaded 2-core machine. Retry settings
 * (RETRY_BASE, RETRY_CAP, JOB_ATTEMPTS, RETRY_IN_CALL) stay at the product defaults: the promise
 * under test is the shipped one.
 */
const DEFAULT_ENV: Record<string, string> = {
  WORKER_CONCURRENCY: '10',
  GRAPH_RATE_LIMIT: '60/2s',
  GRAPH_TIMEOUT: '5s',
  SHUTDOWN_TIMEOUT: '30s',
  GUARD_THRESHOLD: '100000',
  API_RATE_LIMIT: '100000',
  LOG_LEVEL: 'info',
  // The fault tests measure the write path; device reads have their own tests (test/evidence).
  EVIDENCE: 'off',
};

export function makeUsers(n: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => `leaver-${tag}-${String(i).padStart(5, '0')}@contoso.com`);
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const redis = await startRedis({ appendonly: true });
  const sim = await startSimulator(opts.sim ?? {});
  const apiPort = await freePort();
  const keys: Record<Role, string> = {
    producer: `obk_${randomBytes(24).toString('base64url')}`,
    viewer: `obk_${randomBytes(24).toString('base64url')}`,
    operator: `obk_${randomBytes(24).toString('base64url')}`,
  };
  const sha = (k: string) => createHash('sha256').update(k).digest('hex');
  const env: Record<string, string> = {
    ...DEFAULT_ENV,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    GRAPH_BASE_URL: sim.graphBaseUrl,
    AZURE_AUTHORITY_HOST: sim.authorityHost,
    AZURE_TENANT_ID: sim.tenantId,
    AZURE_CLIENT_ID: sim.clientId,
    AZURE_CLIENT_SECRET: sim.clientSecret,
    NODE_EXTRA_CA_CERTS: sim.caFile,
    API_PORT: String(apiPort),
    API_HOST: '127.0.0.1',
    API_KEYS: (Object.keys(keys) as Role[]).map((r) => `fault-${r}:${r}:${sha(keys[r])}`).join(','),
    ...opts.env,
  };
  const ctx = createQueueContext(testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix }));
  const db = ctx.redis as Redis;
  db.on('error', () => {});
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const workers: ManagedProcess[] = [];

  const waitForWorkers = async (n: number, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // A worker that died while starting (bad config, broken build) fails at once, with its output.
      const dead = workers.find((w) => !w.running());
      if (dead)
        throw new Error(
          `${dead.name} exited while starting (log ${dead.logFile}): ${dead.output().slice(-600)}`,
        );
      const count = await ctx.retire.getWorkersCount().catch(() => 0);
      if (count >= n) return;
      if (Date.now() > deadline)
        throw new Error(`only ${count} of ${n} workers connected within ${timeoutMs} ms`);
      await sleep(200);
    }
  };
  const startWorker = async (name: string, extra: Record<string, string> = {}) => {
    const w = spawnWorker({ name, group: opts.group, env: { ...env, ...extra } });
    workers.push(w);
    return w;
  };
  const call: Stack['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { 'x-api-key': keys[o.role ?? 'operator'] };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(apiUrl + path, {
      method,
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // keep the text
    }
    return { status: res.status, body };
  };
  const truth = (ids: Iterable<string>) => readTruth(db, redis.prefix, [...ids]);

  const stack: Stack = {
    redis,
    sim,
    env,
    api: undefined as unknown as ManagedProcess,
    apiUrl,
    workers,
    ctx,
    db,
    prefix: redis.prefix,
    startWorker,
    waitForWorkers,
    call,
    async submitBatch(users) {
      const out = new Map<string, string>();
      for (let i = 0; i < users.length; i += 1000) {
        const chunk = users.slice(i, i + 1000);
        const res = await call('POST', '/v1/offboardings/batch', {
          role: 'producer',
          body: { items: chunk.map((user) => ({ user })) },
        });
        const items = batchItems(res);
        for (const item of items) if (item.user && item.id) out.set(item.user, item.id);
        if (items.length !== chunk.length || items.some((it) => it.status !== 'accepted')) {
          throw new Error(
            `batch not fully accepted: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`,
          );
        }
      }
      return out;
    },
    truth,
    async waitAllRetired(ids, timeoutMs) {
      const list = [...ids];
      let last: Truth | undefined;
      return waitFor(
        `${list.length} jobs to end retired`,
        async () => {
          last = await truth(list);
          return last.retired === list.length ? last : undefined;
        },
        { timeoutMs, intervalMs: 500 },
        () => (last ? describeTruth(last) : 'no reading'),
      );
    },
    async close() {
      await stopAll(15_000);
      await closeQueueContext(ctx).catch(() => {});
      await sim.close().catch(() => {});
      await redis.stop().catch(() => {});
    },
  };
  try {
    stack.api = spawnApi({ name: 'api', group: opts.group, env });
    await waitForHttp(stack.api, `${apiUrl}/healthz`, 60_000);
    const n = opts.workers ?? 2;
    for (let i = 1; i <= n; i++) await startWorker(`worker-${i}`);
    await waitForWorkers(n);
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}

interface BatchItem {
  user?: string;
  id?: string;
  status?: string;
}

/** The batch answer lists one result per item (`items` or `results`). */
function batchItems(res: ApiAnswer): BatchItem[] {
  const b = res.body;
  const list = Array.isArray(b?.items) ? b.items : Array.isArray(b?.results) ? b.results : [];
  return list as BatchItem[];
}

/** Prints the fault's figures as one JSON line and keeps them in test-artifacts/faults/summary.jsonl. */
export function report(fault: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ fault, ...figures, at: new Date().toISOString() });
  console.log(`FAULT-FIGURES ${line}`);
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  appendFileSync(join(ARTIFACTS_DIR, 'summary.jsonl'), `${line}\n`);
}
