// Issue 19 item 6: a feed URL's query string is never shown (console, CLI, API, audit, logs), and
// `schedule add` refuses query parameters named like credentials. A real `offboard worker` process
// runs the ticks against a loopback feed that records what it receives; the API, console and CLI read
// the same Redis.
import { createServer, type Server } from 'node:http';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWEEP_QUEUE } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { feedDisplayUrl, feedUrlProblem, validateSchedule } from '../../src/schedule/definition.js';
import { type Simulator, startSimulator } from '../../src/sim/index.js';
import { bearer, KEYS, type TestApi, testApp } from '../api/helpers.js';
import { json, runCli } from '../cli/run-cli.js';
import { ConsoleClient } from '../console/helpers.js';
import type { ManagedProcess } from '../helpers/processes.js';
import type { TestRedis } from '../helpers/redis.js';
import { spawnTestWorker, uniquePrefix, waitFor, workerEnv } from '../helpers/worker.js';

const LEGACY_SECRET = 'LEGACY-sEcReT-4471';
const PRIVATE = 'PRIVATE-QUERY-VALUE-91';

describe('credential-looking query parameters', () => {
  it.each([
    'key',
    'api_key',
    'apiKey',
    'X-API-KEY',
    'token',
    'access_token',
    'secret',
    'client_secret',
    'sig',
    'X-Amz-Signature',
    'password',
    'auth',
    'Authorization',
    'code',
    'AUTH_CODE',
  ])('refuses ?%s= with the OFFBOARD_FEED_TOKEN_* hint and without the value', (name) => {
    const url = `https://hr.example/export?page=2&${name}=S3CRET-VALUE`;
    const problem = feedUrlProblem(url);
    expect(problem).toMatch(/looks like a credential/);
    expect(problem).toContain('OFFBOARD_FEED_TOKEN_');
    expect(problem).not.toContain('S3CRET-VALUE');
    expect(() => validateSchedule({ name: 'x', cron: '0 * * * *', source: { type: 'http', url } })).toThrow(
      /OFFBOARD_FEED_TOKEN_/,
    );
  });

  it('accepts other parameters, and shows any feed as origin and path only', () => {
    expect(feedUrlProblem('https://hr.example/export?dept=sales&page=2')).toBeNull();
    expect(feedDisplayUrl(`https://hr.example:8443/export/leavers?dept=${PRIVATE}#frag`)).toBe(
      'https://hr.example:8443/export/leavers',
    );
    expect(feedDisplayUrl('not a url')).toBe('URL');
  });
});

describe('feeds shown as origin and path, on a running stack', () => {
  let redis: TestRedis;
  let sim: Simulator;
  let server: Server;
  let base: string;
  let prefix: string;
  let t: TestApi;
  let worker: ManagedProcess;
  const received: string[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    sim = await startSimulator({ latencyMs: 1 });
    prefix = uniquePrefix('feedurl');
    // The app's own Redis is the one the CLI, the worker and the test use.
    t = await testApp({ QUEUE_PREFIX: prefix });
    redis = t.redis;
    server = createServer((req, res) => {
      received.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    env = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
    worker = spawnTestWorker(
      'feed-url',
      workerEnv(redis, sim, prefix, { DRY_RUN: 'true', LOG_LEVEL: 'info' }),
    );
    await worker.waitForOutput(/worker started/, 60_000);
  }, 90_000);

  afterAll(async () => {
    await worker?.stop(10_000);
    await t?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await sim?.close();
  });

  it('`schedule add` with ?api_key= exits 2 with the hint, prints no secret and stores nothing', async () => {
    const r = await runCli(
      [
        'schedule',
        'add',
        'hr',
        '--cron',
        '0 2 * * *',
        '--source',
        'https://hr.example/export?api_key=SECRET123',
      ],
      env,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('OFFBOARD_FEED_TOKEN_');
    expect(`${r.stdout}${r.stderr}`).not.toContain('SECRET123');
    expect(json<unknown[]>(await runCli(['schedule', 'list', '--json'], env))).toEqual([]);
  });

  it('no surface shows a query string; the worker still calls the URL as stored; a legacy credential URL is refused at tick', {
    timeout: 120_000,
  }, async () => {
    const add = await runCli(
      [
        'schedule',
        'add',
        'sales',
        '--cron',
        '* * * * * *',
        '--source',
        `${base}/feed?dept=${PRIVATE}`,
        '--json',
      ],
      env,
    );
    expect(add.code).toBe(0);
    expect(add.stdout).not.toContain(PRIVATE);
    expect(json<{ source: { url: string } }>(add).source.url).toBe(`${base}/feed`);
    // A schedule stored before the rule (written straight into Redis) with a key in its query.
    const q = new Queue(SWEEP_QUEUE, { connection: t.ctx.redis, prefix });
    q.on('error', () => {});
    await q.upsertJobScheduler(
      'legacy',
      { pattern: '* * * * * *', tz: 'UTC' },
      {
        name: 'sweep',
        data: {
          name: 'legacy',
          cron: '* * * * * *',
          tz: 'UTC',
          source: { type: 'http', url: `${base}/legacy?api_key=${LEGACY_SECRET}` },
        },
      },
    );
    await q.close();

    await waitFor(
      async () => {
        const audit = await readAudit(t.ctx, { count: 500 });
        return (
          received.some((u) => u.startsWith('/feed?')) &&
          audit.some(
            (e) => e.type === 'sweep' && e.actor === 'schedule:legacy' && e.details?.refused === true,
          )
        );
      },
      { timeoutMs: 60_000, what: 'a sales sweep and a refused legacy tick' },
    );
    await runCli(['schedule', 'remove', 'sales'], env);
    const rq = new Queue(SWEEP_QUEUE, { connection: t.ctx.redis, prefix });
    rq.on('error', () => {});
    await rq.removeJobScheduler('legacy');
    await rq.close();

    // The worker called the stored URL with its query; the legacy URL was never called.
    expect(received).toContain(`/feed?dept=${PRIVATE}`);
    expect(received.some((u) => u.startsWith('/legacy'))).toBe(false);
    const refusal = (await readAudit(t.ctx, { count: 500 })).find(
      (e) => e.actor === 'schedule:legacy' && e.details?.refused === true,
    );
    expect(String(refusal?.details?.error)).toMatch(/api_key.*OFFBOARD_FEED_TOKEN_/);

    // Audit and worker logs: neither query value.
    const audit = JSON.stringify(await readAudit(t.ctx, { count: 1000 }));
    for (const s of [PRIVATE, LEGACY_SECRET]) {
      expect(audit).not.toContain(s);
      expect(worker.output()).not.toContain(s);
    }
  });

  it('CLI list, console schedules page and GET /v1/queues show origin and path only', async () => {
    const q = new Queue(SWEEP_QUEUE, { connection: t.ctx.redis, prefix });
    q.on('error', () => {});
    const data = (name: string, url: string) => ({
      name,
      cron: '0 3 * * *',
      tz: 'UTC',
      source: { type: 'http', url },
    });
    await q.upsertJobScheduler(
      'legacy2',
      { pattern: '0 3 * * *', tz: 'UTC' },
      { name: 'sweep', data: data('legacy2', `${base}/legacy?api_key=${LEGACY_SECRET}`) },
    );
    await q.close();
    await runCli(
      ['schedule', 'add', 'sales2', '--cron', '0 3 * * *', '--source', `${base}/feed2?dept=${PRIVATE}`],
      env,
    );
    try {
      const text = await runCli(['schedule', 'list'], env);
      const asJson = await runCli(['schedule', 'list', '--json'], env);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`${base}/legacy`);
      expect(text.stdout).toContain(`${base}/feed2`);
      const c = new ConsoleClient(t.app);
      await c.signIn(KEYS.viewer);
      const page = await c.get('/console/schedules');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(`${base}/legacy`);
      const queues = await t.app.inject({ url: '/v1/queues', headers: bearer(KEYS.viewer) });
      expect(queues.statusCode).toBe(200);
      for (const shown of [text.stdout, asJson.stdout, page.body, queues.body]) {
        expect(shown).not.toContain(LEGACY_SECRET);
        expect(shown).not.toContain(PRIVATE);
        expect(shown).not.toContain('api_key');
      }
    } finally {
      await runCli(['schedule', 'remove', 'sales2'], env);
      await runCli(['schedule', 'remove', 'legacy2'], env);
    }
  });
});
