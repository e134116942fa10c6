// `offboard demo`: the whole product on one machine — embedded Redis, the Graph + Entra simulator,
// two worker processes and the API — driven with a mixed set of leavers until every one has an outcome.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startApi } from '../api/index.js';
import { loadConfig } from '../config/load.js';
import { enqueueMany } from '../intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../queue/context.js';
import { startSimulator } from '../sim/index.js';
import { demoLeavers } from './leavers.js';
import { freePort, startEmbeddedRedis } from './redis-server.js';
import { printFinal, type Row, summaryLine } from './report.js';

export interface DemoOptions {
  keep?: boolean;
  users?: number;
  workers?: number;
  /** Give up (exit 1) when not every leaver has an outcome by then. Default 180 s. */
  timeoutMs?: number;
  out?: NodeJS.WritableStream;
}

export class DemoIncompleteError extends Error {
  override readonly name = 'DemoIncompleteError';
}

export async function runDemo(opts: DemoOptions = {}): Promise<{ rows: Row[]; elapsedMs: number }> {
  const out = opts.out ?? process.stdout;
  const say = (line = '') => out.write(`${line}\n`);
  const started = Date.now();
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  };
  try {
    let redisUrl = process.env.REDIS_URL;
    if (!redisUrl) {
      const redis = await startEmbeddedRedis();
      cleanups.push(() => redis.stop());
      redisUrl = redis.url;
      say(`redis      embedded redis-server at ${redisUrl}`);
    } else say(`redis      ${redisUrl.replace(/\/\/[^@]*@/, '//***@')} (REDIS_URL)`);

    const sim = await startSimulator({
      latencyMs: 40,
      limit: { limit: 20, windowMs: 2000, retryAfter: 'fractional' },
    });
    cleanups.push(() => sim.close());
    say(`simulator  Graph ${sim.graphBaseUrl} · Entra ${sim.authorityHost} (limit 20 POST / 2 s)`);

    const viewerKey = `obk_${randomBytes(24).toString('base64url')}`;
    const operatorKey = `obk_${randomBytes(24).toString('base64url')}`;
    const producerKey = `obk_${randomBytes(24).toString('base64url')}`;
    const sha = (k: string) => createHash('sha256').update(k).digest('hex');
    const apiPort = await freePort();
    const env: Record<string, string> = {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: process.env.REDIS_URL ? `offboard-demo-${Date.now().toString(36)}` : 'offboard',
      ...sim.env(),
      GRAPH_RATE_LIMIT: '20/2s',
      GRAPH_TIMEOUT: '5s',
      RETRY_BASE: '200ms',
      API_PORT: String(apiPort),
      API_HOST: '127.0.0.1',
      API_KEYS: `demo-viewer:viewer:${sha(viewerKey)},demo-operator:operator:${sha(operatorKey)},demo-hr:producer:${sha(producerKey)}`,
      // One key for the demo's run, so the API does not warn that console sessions end at restart.
      CONSOLE_SESSION_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    };
    const config = loadConfig(env, { needAuth: true, needApi: true });

    const workers: ChildProcess[] = [];
    const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
    for (let i = 0; i < (opts.workers ?? 2); i++) {
      const child = spawn(process.execPath, [cli, 'worker'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      workers.push(child);
    }
    cleanups.push(async () => {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise((resolve) => {
              if (w.exitCode !== null) return resolve(null);
              w.once('exit', resolve);
              w.kill('SIGTERM');
            }),
        ),
      );
    });
    say(`workers    ${workers.length} processes × concurrency ${config.worker.concurrency}`);

    const api = await startApi(config);
    cleanups.push(() => api.close());
    say(
      `api        ${api.url}  ·  console ${api.url}/console  ·  dashboard ${api.url}/dashboard  ·  status page ${api.url}/`,
    );
    say(`           viewer key (HTTP Basic password, or x-api-key): ${viewerKey}`);
    say(`           operator key: ${operatorKey}`);
    say(`           producer key (submits leavers): ${producerKey}`);

    const ctx: QueueContext = createQueueContext(config);
    cleanups.push(() => closeQueueContext(ctx));
    const leavers = demoLeavers(opts.users ?? 30);
    const results = await enqueueMany(
      ctx,
      leavers.map(({ expect: _e, ...req }) => req),
      { requestedBy: 'demo', source: 'demo' },
    );
    const ids = results.map((r) => (r.status === 'invalid' ? '' : r.id));
    say(`enqueued   ${ids.filter(Boolean).length} leavers\n`);

    const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
    let rows: Row[] = [];
    for (;;) {
      rows = await collectRows(ctx, leavers, ids);
      const line = summaryLine(rows, sim.stats(), Date.now() - started);
      if (process.stdout.isTTY && out === process.stdout) out.write(`\r${line}   `);
      else say(line);
      if (rows.every((r) => r.done)) break;
      if (Date.now() > deadline)
        throw new DemoIncompleteError('demo timed out before every leaver had an outcome');
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (process.stdout.isTTY && out === process.stdout) say();
    const elapsedMs = Date.now() - started;
    printFinal(say, rows, sim.stats(), elapsedMs);
    if (opts.keep) {
      say(
        `\n--keep: still running. Operator console ${api.url}/console (sign in with a key below); dashboard ${api.url}/dashboard (password: a key). Ctrl-C to stop.`,
      );
      say(`  viewer key   (reads only): ${viewerKey}`);
      say(`  operator key (acts):       ${operatorKey}`);
      say(`  producer key (submits):    ${producerKey}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return { rows, elapsedMs };
  } finally {
    await cleanup();
  }
}

async function collectRows(
  ctx: QueueContext,
  leavers: ReturnType<typeof demoLeavers>,
  ids: string[],
): Promise<Row[]> {
  return Promise.all(
    leavers.map(async (l, i): Promise<Row> => {
      const id = ids[i] ?? '';
      const base = { user: l.user, expect: l.expect, id };
      if (!id) return { ...base, done: true, outcome: 'invalid' };
      const dl = await ctx.deadLetter.getJob(`dl-${id}`);
      if (dl?.data) {
        return {
          ...base,
          done: true,
          outcome: `dead letter: ${dl.data.reason}`,
          status: dl.data.lastStatus,
          calls: dl.data.attempts,
          requestId: dl.data.requestId,
        };
      }
      const job = await ctx.retire.getJob(id);
      if (!job) return { ...base, done: false, outcome: 'missing' };
      const state = await job.getState();
      if (state === 'completed' && job.returnvalue) {
        const r = job.returnvalue;
        return {
          ...base,
          done: true,
          outcome: r.outcome,
          calls: r.attempts,
          throttledWaits: r.throttledWaits,
          requestId: r.requestId,
        };
      }
      return { ...base, done: false, outcome: state };
    }),
  );
}
