// `offboard demo`: the whole product on one machine — embedded Redis, the Graph + Entra simulator,
// two worker processes and the API — driven with a mixed set of leavers until every one has an outcome.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApi } from '../api/index.js';
import { loadConfig } from '../config/load.js';
import { csvStream } from '../evidence/csv.js';
import { exportRows } from '../evidence/export.js';
import { EVIDENCE_COLUMNS } from '../evidence/rows.js';
import { getEvidence } from '../evidence/store.js';
import { enqueueMany } from '../intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../queue/context.js';
import { startSimulator } from '../sim/index.js';
import { demoLeavers } from './leavers.js';
import { POLICY_PROFILE, runPolicyLeaver } from './policy-leaver.js';
import { freePort, startEmbeddedRedis } from './redis-server.js';
import { printFinal, type Row, summaryLine, verifying } from './report.js';

export interface DemoOptions {
  keep?: boolean;
  users?: number;
  workers?: number;
  /** Give up (exit 1) when not every leaver has an outcome by then. Default 180 s. */
  timeoutMs?: number;
  /** Where the evidence CSV goes. Default: a new file in the temp directory. */
  evidenceCsv?: string;
  out?: NodeJS.WritableStream;
}

export class DemoIncompleteError extends Error {
  override readonly name = 'DemoIncompleteError';
}

// Short verification so the demo shows it end: first read 2 s after the retire, reads stop after 12 s.
// Devices leave the simulator 1 s after the retire; `nocheckin-` leavers' never do (unverified).
const VERIFY_AFTER = '2s';
const VERIFY_WINDOW = '12s';
const RETIRE_DELAY_MS = 1000;

export async function runDemo(
  opts: DemoOptions = {},
): Promise<{ rows: Row[]; elapsedMs: number; evidenceCsv: string }> {
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
      retireDelayMs: RETIRE_DELAY_MS,
    });
    cleanups.push(() => sim.close());
    const leavers = demoLeavers(opts.users ?? 30);
    sim.control({ devices: Object.fromEntries(leavers.map((l) => [l.user, l.devices])) });
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
      VERIFY_AFTER,
      VERIFY_WINDOW,
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
    const results = await enqueueMany(
      ctx,
      leavers.map(({ expect: _e, outcome: _o, devices: _d, ...req }) => req),
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
      // Done when every leaver has an outcome and every verification has ended.
      if (rows.every((r) => r.done && !verifying(r))) break;
      if (Date.now() > deadline)
        throw new DemoIncompleteError('demo timed out before every leaver had an outcome and a verification');
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (process.stdout.isTTY && out === process.stdout) say();
    // Issue 21: one more leaver, under a device policy's `dispose` profile (its own queue and worker).
    const policy = await runPolicyLeaver({
      env,
      cli,
      say,
      timeoutMs: Math.max(30_000, deadline - Date.now()),
    });
    rows.push({
      user: policy.user,
      expect: `completed under device policy ${POLICY_PROFILE}; verified`,
      want: 'completed',
      id: policy.id,
      done: true,
      outcome: policy.outcome,
      evidence: policy.evidence,
      ...(policy.record
        ? {
            calls: policy.record.attempts,
            throttledWaits: policy.record.throttledWaits,
            ...(policy.record.requestId ? { requestId: policy.record.requestId } : {}),
          }
        : {}),
    });
    const elapsedMs = Date.now() - started;
    printFinal(say, rows, sim.stats(), elapsedMs);
    const evidenceCsv =
      opts.evidenceCsv ??
      join(tmpdir(), `offboard-demo-evidence-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`);
    const written = await writeEvidenceCsv(ctx, evidenceCsv, started - 60_000, Date.now() + 1000);
    say(`evidence   ${written} rows (one per device; a leaver without devices: one row) → ${evidenceCsv}`);
    say(
      `           the same from the CLI (REDIS_URL of the run): offboard evidence --from 24h --format csv > evidence.csv`,
    );
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
    return { rows, elapsedMs, evidenceCsv };
  } finally {
    await cleanup();
  }
}

/** The demo's evidence as the auditor's CSV (the export of GET /v1/evidence?format=csv). */
async function writeEvidenceCsv(
  ctx: QueueContext,
  path: string,
  fromMs: number,
  toMs: number,
): Promise<number> {
  const counts = { leavers: 0, rows: 0 };
  const file = createWriteStream(path, { flags: 'wx' });
  for await (const chunk of csvStream(
    EVIDENCE_COLUMNS,
    exportRows(ctx.redis, ctx.prefix, { fromMs, toMs }, counts),
  )) {
    if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    file.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return counts.rows;
}

async function collectRows(
  ctx: QueueContext,
  leavers: ReturnType<typeof demoLeavers>,
  ids: string[],
): Promise<Row[]> {
  return Promise.all(
    leavers.map(async (l, i): Promise<Row> => {
      const id = ids[i] ?? '';
      if (!id) return { user: l.user, expect: l.expect, want: l.outcome, id, done: true, outcome: 'invalid' };
      const base = {
        user: l.user,
        expect: l.expect,
        want: l.outcome,
        id,
        evidence: await getEvidence(ctx.redis, ctx.prefix, id),
      };
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
