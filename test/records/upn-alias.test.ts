// Issue 19 item 15: an operator who knows only the UPN finds a leaver the Entra sweep enqueued by
// object id. A real sweep tick reads the simulator's directory (MSAL token, read pacer) and writes
// the UPN -> object id alias; then `offboard status --user <upn>`, GET /v1/offboardings?user=<upn>
// on a running API and the console lookup all find the job. The index stays small and expires.
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { RunningApi } from '../../src/api/server.js';
import { createTokenProvider } from '../../src/entra/provider.js';
import type { RetireJobData } from '../../src/interfaces.js';
import { createLogger } from '../../src/log.js';
import { closeQueueContext, type QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { MAX_ALIASES, recordUpnAliases } from '../../src/records/user-jobs.js';
import { validateSchedule } from '../../src/schedule/definition.js';
import { addSchedule, openSweepQueue } from '../../src/schedule/schedules.js';
import { startSweepWorker } from '../../src/schedule/worker.js';
import { stableGuid } from '../../src/sim/tokens.js';
import { apiConfig, bearer, KEYS, liveApi, memoryLogger } from '../api/helpers.js';
import { runCli } from '../cli/run-cli.js';
import { ConsoleClient } from '../console/helpers.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import { openContext, uniquePrefix, workerConfig } from '../helpers/worker.js';

const DAY = 86_400_000;
let redis: TestRedis;
let sim: TestSimulator;
let ctx: QueueContext;
let prefix: string;
let api: RunningApi;
const UPN = 'Alice.Leaver@contoso.com';
const objectId = stableGuid(`user:${UPN.toLowerCase()}`);

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator();
  sim.control({ users: { clear: true } });
  prefix = uniquePrefix('alias');
  const config = workerConfig(redis, sim, prefix, {
    GUARD_THRESHOLD: '1000',
    GRAPH_READ_RATE_LIMIT: '1000/1s',
  });
  ctx = openContext(config);
  const tokens = createTokenProvider(config, { redis: ctx.redis });
  const worker = startSweepWorker(ctx, { logger: createLogger({ level: 'silent' }), tokenProvider: tokens });
  await worker.worker.waitUntilReady();
  try {
    const at = new Date(Math.floor((Date.now() + 3 * DAY) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    sim.control({ users: { upsert: [{ userPrincipalName: UPN, employeeLeaveDateTime: at }] } });
    const def = validateSchedule({
      name: 'leavers',
      cron: '0 0 1 1 *',
      tz: 'Europe/Berlin',
      source: { type: 'entra', lookaheadMs: 14 * DAY, reconcile: true },
    });
    await addSchedule(ctx, def, { actor: 'ops' });
    const q = openSweepQueue(ctx);
    try {
      const job = await q.add('sweep', def, { jobId: 'alias-tick', attempts: 1 });
      for (const deadline = Date.now() + 60_000; ; ) {
        const j = (await q.getJob(job.id as string)) as Job | undefined;
        if (j?.finishedOn) {
          if (j.failedReason) throw new Error(j.failedReason);
          break;
        }
        if (Date.now() > deadline) throw new Error('tick did not finish');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await q.close();
    }
  } finally {
    await worker.close();
    await tokens.close?.();
  }
  api = await liveApi(redis, { QUEUE_PREFIX: prefix });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await closeQueueContext(ctx);
  await sim.close();
  await redis.stop();
});

async function sweptJob(): Promise<Job<RetireJobData>> {
  const jobs = (await ctx.retire.getJobs(['delayed'])) as Job<RetireJobData>[];
  expect(jobs).toHaveLength(1);
  expect(jobs[0]?.data.user).toBe(objectId);
  return jobs[0] as Job<RetireJobData>;
}

describe('lookups by UPN find jobs keyed by object id', () => {
  it('GET /v1/offboardings?user=<upn> (any case) lists the swept job', async () => {
    const job = await sweptJob();
    const res = await fetch(`${api.url}/v1/offboardings?user=${encodeURIComponent(UPN.toUpperCase())}`, {
      headers: bearer(KEYS.viewer),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { id: string; user: string }[] };
    expect(body.items.map((i) => [i.id, i.user])).toEqual([[job.id, objectId]]);
    // A producer still sees only its own requests: the sweep's job is not its.
    const producer = await fetch(`${api.url}/v1/offboardings?user=${encodeURIComponent(UPN)}`, {
      headers: bearer(KEYS.producer),
    });
    expect(((await producer.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('offboard status --user <upn> shows the job and its history', async () => {
    const job = await sweptJob();
    const r = await runCli(['status', '--user', UPN], { REDIS_URL: redis.url, QUEUE_PREFIX: prefix });
    expect(r.stderr).not.toMatch(/no job or history/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(job.id as string);
    expect(r.stdout).toContain(objectId);
  }, 60_000);

  it('the console lookup by UPN finds it', async () => {
    const job = await sweptJob();
    const app = await buildApp(apiConfig(redis, { QUEUE_PREFIX: prefix }), {
      logger: memoryLogger('warn').logger,
    });
    try {
      const c = new ConsoleClient(app);
      await c.signIn(KEYS.viewer);
      const page = await c.get(`/console/lookup?q=${encodeURIComponent(UPN)}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(job.id as string);
      expect(page.body).toContain(objectId);
    } finally {
      await app.close();
    }
  });

  it('keeps at most MAX_ALIASES object ids per UPN, expiring with HISTORY_TTL', async () => {
    const upn = 'reused@contoso.com';
    for (let i = 0; i < MAX_ALIASES + 3; i++) {
      await recordUpnAliases(ctx, [{ upn, objectId: stableGuid(`user:reused-${i}`) }]);
    }
    // Nonsense pairs are not indexed.
    expect(await recordUpnAliases(ctx, [{ upn: 'not a upn', objectId: 'nope' }])).toBe(0);
    const key = keys.upnAlias(ctx.prefix, upn);
    expect(await ctx.redis.zcard(key)).toBe(MAX_ALIASES);
    const ttl = await ctx.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(ctx.config.retention.historyTtlMs);
    expect(await ctx.redis.exists(keys.upnAlias(ctx.prefix, UPN.toLowerCase()))).toBe(1);
  });
});
