// Issue 20 part 1: every caller of Graph (retire, inventory, verification, Entra sweep, LCW resume)
// gives the pacer the same feedback for the same answer, because every one goes through graphCall.
// A table over the answers, each row run through each caller's real entry point, with real pacers on
// a real Redis and a loopback HTTP fake answering the row's status (or not at all).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { takeInventory } from '../../src/evidence/inventory.js';
import { readDevicesForVerification } from '../../src/evidence/verify-read.js';
import { type GraphCallContext, graphContext } from '../../src/graph/call.js';
import { deliverResume } from '../../src/notify/deliver-resume.js';
import type { Pacer } from '../../src/pacing/pacer.js';
import { createReadPacer } from '../../src/pacing/read-pacer.js';
import { createWritePacer } from '../../src/pacing/write-pacer.js';
import type { QueueContext } from '../../src/queue/context.js';
import { readLeavers } from '../../src/schedule/entra-source.js';
import { attemptCall } from '../../src/worker/attempt.js';
import { readProgress } from '../../src/worker/job-data.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import {
  closeQueueContext,
  enqueueUsers,
  openContext,
  uniquePrefix,
  workerConfig,
} from '../helpers/worker.js';

type Answer =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'timeout' }
  | { kind: 'refused' };

/** What the pacer heard, without the subject (the Entra sweep's is not a user). */
type Heard = 'healthy' | `throttled:${number | 'none'}` | `failure:${number | 'none'}`;

const ROWS: { name: string; answer: Answer; expected: Heard[] }[] = [
  { name: '2xx', answer: { kind: 'status', status: 200 }, expected: ['healthy'] },
  { name: '400', answer: { kind: 'status', status: 400 }, expected: ['healthy'] },
  { name: '403', answer: { kind: 'status', status: 403 }, expected: [] },
  { name: '404', answer: { kind: 'status', status: 404 }, expected: ['healthy'] },
  {
    name: '429 with Retry-After',
    answer: { kind: 'status', status: 429, retryAfter: '2' },
    expected: ['throttled:2000'],
  },
  { name: '429 without Retry-After', answer: { kind: 'status', status: 429 }, expected: ['throttled:none'] },
  {
    name: '503 with Retry-After',
    answer: { kind: 'status', status: 503, retryAfter: '1' },
    expected: ['failure:1000'],
  },
  { name: '500', answer: { kind: 'status', status: 500 }, expected: ['failure:none'] },
  { name: 'timeout', answer: { kind: 'timeout' }, expected: ['failure:none'] },
  { name: 'connection error', answer: { kind: 'refused' }, expected: ['failure:none'] },
];

/** A real pacer whose feedback calls are also written down. */
function recording(pacer: Pacer, heard: Heard[]): Pacer {
  const ra = (ms: number | undefined) => (ms === undefined ? 'none' : ms);
  return {
    acquire: () => pacer.acquire(),
    reserve: (ahead) => pacer.reserve(ahead),
    shift: (ms) => pacer.shift(ms),
    sharedGateUntil: () => pacer.sharedGateUntil(),
    take: (signal) => pacer.take(signal),
    localGateUntil: () => pacer.localGateUntil(),
    onSuccess(user) {
      heard.push('healthy');
      pacer.onSuccess(user);
    },
    onThrottled(ms, o) {
      heard.push(`throttled:${ra(ms)}`);
      return pacer.onThrottled(ms, o);
    },
    onFailure(user, ms) {
      heard.push(`failure:${ra(ms)}`);
      return pacer.onFailure(user, ms);
    },
  };
}

let redis: TestRedis;
let sim: TestSimulator;
let server: Server;
let fakeBase: string;
let refusedBase: string;
let answer: Answer = { kind: 'status', status: 200 };
const requests: { method: string; url: string; auth?: string }[] = [];
const contexts: QueueContext[] = [];

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator();
  server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization });
    req.resume();
    if (answer.kind === 'timeout') return; // never answers: the caller's timeout ends it
    if (answer.kind === 'refused') throw new Error('unreachable');
    const { status, retryAfter } = answer;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': 'rid' };
    if (retryAfter) headers['retry-after'] = retryAfter;
    if (status >= 200 && status < 300) {
      if (req.method === 'POST') return res.writeHead(204, headers).end();
      return res.writeHead(200, headers).end(JSON.stringify({ value: [] }));
    }
    res.writeHead(status, headers).end(JSON.stringify({ error: { code: `E${status}`, message: 'fake' } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fakeBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`;
  // A port nobody listens on: connection refused.
  refusedBase = `http://127.0.0.1:${await freePort()}/v1.0`;
});

afterAll(async () => {
  for (const ctx of contexts) await closeQueueContext(ctx);
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await sim?.close();
  await redis?.stop();
});

interface Setup {
  ctx: QueueContext;
  config: Config;
  heard: Heard[];
  write: GraphCallContext;
  read: GraphCallContext;
}

/** A fresh prefix per caller and row: a gate one row sets never delays the next. */
function setup(a: Answer): Setup {
  const prefix = uniquePrefix(redis.prefix);
  const config = workerConfig(redis, sim, prefix, {
    GRAPH_BASE_URL: a.kind === 'refused' ? refusedBase : fakeBase,
    GRAPH_TIMEOUT: '300ms',
    GRAPH_READ_RATE_LIMIT: '1000/1s',
  });
  const ctx = openContext(config);
  contexts.push(ctx);
  const heard: Heard[] = [];
  const tokens = { getToken: async () => 'tok' };
  const writePacer = recording(createWritePacer({ redis: ctx.redis, prefix, config }), heard);
  const readPacer = recording(createReadPacer({ redis: ctx.redis, prefix, config }), heard);
  return {
    ctx,
    config,
    heard,
    write: graphContext(config, tokens, writePacer),
    read: graphContext(config, tokens, readPacer),
  };
}

const USER = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** Each caller through its own entry point; its result or error does not matter here, only the pace. */
const CALLERS: Record<string, (s: Setup) => Promise<unknown>> = {
  async retire(s) {
    const [id] = await enqueueUsers(s.ctx, [USER]);
    const job = await Job.fromId(s.ctx.retire, id as string);
    if (!job) throw new Error('job not found');
    return attemptCall(
      { ctx: s.ctx, graph: s.write, actor: 'test' },
      { job, data: job.data, progress: readProgress(job.progress) },
      {},
    );
  },
  inventory: (s) => takeInventory({ ctx: s.ctx, graph: s.read, actor: 'test' }, { jobId: 'j1', user: USER }),
  verification: (s) =>
    readDevicesForVerification({ redis: s.ctx.redis, prefix: s.ctx.prefix, graph: s.read }, USER),
  'Entra sweep': (s) => readLeavers({ graph: s.read }, { fromMs: Date.now(), toMs: Date.now() + 86_400_000 }),
  'LCW resume': (s) =>
    deliverResume(
      {
        kind: 'resume',
        callbackUriPath: `/identityGovernance/lifecycleWorkflows/workflows/${USER}/tasks/${USER}/taskProcessingResults/${USER}/microsoft.graph.identityGovernance.resume`,
        operationStatus: 'completed',
        eventId: 'e1',
        eventType: 'retire.completed',
        jobId: 'j1',
        user: USER,
        correlationId: 'c1',
      },
      { graph: s.write },
    ),
};

describe('every Graph caller gives the pacer the same feedback for the same answer', () => {
  for (const row of ROWS) {
    it(`${row.name}: ${row.expected.join(', ') || 'nothing'}`, async () => {
      answer = row.answer;
      const heard: Record<string, Heard[]> = {};
      for (const [name, call] of Object.entries(CALLERS)) {
        const s = setup(row.answer);
        requests.length = 0;
        await call(s).catch(() => undefined);
        heard[name] = s.heard;
        // The call really went out (or was refused), with the token attached by graphCall.
        if (row.answer.kind !== 'refused') {
          expect(requests.length, `${name} sent one request`).toBe(1);
          expect(requests[0]?.auth).toBe('Bearer tok');
        }
      }
      const want = Object.fromEntries(Object.keys(CALLERS).map((n) => [n, row.expected]));
      expect(heard).toEqual(want);
    });
  }

  it('a 401 is refreshed once by every caller (two requests), and tells the pace nothing', async () => {
    answer = { kind: 'status', status: 401 };
    for (const [name, call] of Object.entries(CALLERS)) {
      const s = setup(answer);
      requests.length = 0;
      await call(s).catch(() => undefined);
      expect(requests.length, `${name} refreshed once`).toBe(2);
      expect(s.heard, name).toEqual([]);
    }
  });
});
