// Issue 9, item 3: a schedule must not be able to send a worker secret to a host of its choosing
// or read files outside SCHEDULE_CSV_DIR, whether it comes through `schedule add` or is written
// straight into Redis. A real `offboard worker` process runs the ticks against a feed server on
// loopback that records every request it receives.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/interfaces.js';
import type { QueueContext } from '../../src/queue/context.js';
import { SWEEP_QUEUE } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { validateSchedule } from '../../src/schedule/definition.js';
import { InvalidScheduleError, SweepSourceError } from '../../src/schedule/errors.js';
import { fetchFeed } from '../../src/schedule/http-feed.js';
import { addSchedule, removeSchedule } from '../../src/schedule/schedules.js';
import { runSweep } from '../../src/schedule/sweep.js';
import { type Simulator, startSimulator } from '../../src/sim/index.js';
import { json, runCli } from '../cli/run-cli.js';
import type { ManagedProcess } from '../helpers/processes.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import {
  closeQueueContext,
  openContext,
  spawnTestWorker,
  uniquePrefix,
  waitFor,
  workerConfig,
  workerEnv,
} from '../helpers/worker.js';

const FEED_TOKEN = 'feed-token-3b9d0a';
let redis: TestRedis;
let sim: Simulator;
let ctx: QueueContext;
let worker: ManagedProcess;
let prefix: string;
let csvDir: string;
let outside: string;
let server: Server;
let base: string;
const received: { url: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  redis = await startRedis();
  sim = await startSimulator({ latencyMs: 1 });
  prefix = uniquePrefix(redis.prefix);
  csvDir = mkdtempSync(join(tmpdir(), 'offboard-csvdir-'));
  outside = mkdtempSync(join(tmpdir(), 'offboard-outside-'));
  server = createServer((req, res) => {
    received.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const env = { SCHEDULE_CSV_DIR: csvDir, OFFBOARD_FEED_TOKEN_HR: FEED_TOKEN, DRY_RUN: 'true' };
  ctx = openContext(workerConfig(redis, sim, prefix, env));
  worker = spawnTestWorker('feed-secrets', workerEnv(redis, sim, prefix, env));
  await worker.waitForOutput(/worker started/, 60_000);
});
afterAll(async () => {
  await worker?.stop(10_000);
  await closeQueueContext(ctx);
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await sim?.close();
  await redis?.stop();
  rmSync(csvDir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** Writes a job scheduler straight into Redis, as someone with Redis access could, bypassing checks. */
async function tamper(name: string, data: unknown): Promise<void> {
  const q = new Queue(SWEEP_QUEUE, { connection: ctx.redis, prefix });
  q.on('error', () => {});
  try {
    await q.upsertJobScheduler(name, { pattern: '* * * * * *', tz: 'UTC' }, { name: 'sweep', data });
  } finally {
    await q.close();
  }
}

async function untamper(name: string): Promise<void> {
  const q = new Queue(SWEEP_QUEUE, { connection: ctx.redis, prefix });
  q.on('error', () => {});
  try {
    await q.removeJobScheduler(name);
  } finally {
    await q.close();
  }
}

function sweepsOf(audit: AuditRecord[], actor: string): AuditRecord[] {
  return audit.filter((e) => e.type === 'sweep' && e.actor === actor);
}

const SECRETS = ['AZURE_CLIENT_SECRET', 'TOKEN_CACHE_KEY', 'REDIS_URL', 'OFFBOARD_FEED_TOKENX', 'PATH'];

describe('feed token variables', () => {
  it('validation accepts only OFFBOARD_FEED_TOKEN_* and fetchFeed refuses anything else', async () => {
    for (const tokenEnv of SECRETS) {
      expect(() =>
        validateSchedule({
          name: 'x',
          cron: '0 * * * *',
          source: { type: 'http', url: `${base}/steal`, tokenEnv },
        }),
      ).toThrow(/OFFBOARD_FEED_TOKEN_/);
      await expect(
        fetchFeed({ url: `${base}/steal`, tokenEnv }, { env: { [tokenEnv]: 'the-secret' } }),
      ).rejects.toBeInstanceOf(SweepSourceError);
    }
    expect(received.filter((r) => r.url === '/steal')).toEqual([]);
  });

  it('`schedule add --token-env AZURE_CLIENT_SECRET` exits 2 and stores nothing', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
    const r = await runCli(
      [
        'schedule',
        'add',
        'steal',
        '--cron',
        '* * * * * *',
        '--source',
        `${base}/steal`,
        '--token-env',
      ].concat('AZURE_CLIENT_SECRET'),
      env,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/OFFBOARD_FEED_TOKEN_/);
    const list = json<unknown[]>(await runCli(['schedule', 'list', '--json'], env));
    expect(list).toEqual([]);
  });

  it('a worker refuses a definition tampered in Redis at tick time: audited, nothing sent, while a valid feed runs', {
    timeout: 120_000,
  }, async () => {
    // Positive control: the same worker does run a legitimate feed with its feed token.
    await addSchedule(ctx, {
      name: 'hr',
      cron: '* * * * * *',
      tz: 'UTC',
      source: { type: 'http', url: `${base}/hr`, tokenEnv: 'OFFBOARD_FEED_TOKEN_HR' },
    });
    await tamper('steal', {
      name: 'steal',
      cron: '* * * * * *',
      tz: 'UTC',
      source: { type: 'http', url: `${base}/steal`, tokenEnv: 'AZURE_CLIENT_SECRET' },
    });
    // A definition that claims another schedule's name is refused too.
    await tamper('impostor', {
      name: 'hr',
      cron: '* * * * * *',
      tz: 'UTC',
      source: { type: 'http', url: `${base}/impostor` },
    });
    await waitFor(
      async () => {
        const audit = await readAudit(ctx, { count: 1000 });
        return (
          sweepsOf(audit, 'schedule:steal').some((e) => e.details?.refused === true) &&
          received.some((r) => r.url === '/hr') &&
          worker.output().includes('definition name does not match')
        );
      },
      { timeoutMs: 60_000, what: 'a refused tampered tick and a legitimate sweep' },
    );
    await untamper('steal');
    await untamper('impostor');
    await removeSchedule(ctx, 'hr');

    const refused = sweepsOf(await readAudit(ctx, { count: 1000 }), 'schedule:steal');
    expect(refused[0]?.details?.error).toMatch(/tokenEnv.*OFFBOARD_FEED_TOKEN_/);
    expect(worker.output()).toMatch(/sweep refused: invalid definition in Redis/);
    // Nothing was sent to the attacker's URLs; the legitimate feed got only its own token.
    expect(received.filter((r) => r.url === '/steal' || r.url === '/impostor')).toEqual([]);
    for (const r of received) {
      expect(r.headers.authorization ?? '').not.toContain(sim.clientSecret);
    }
    expect(received.find((r) => r.url === '/hr')?.headers.authorization).toBe(`Bearer ${FEED_TOKEN}`);
    expect(worker.output()).not.toContain(sim.clientSecret);
  });
});

describe('CSV sweep paths', () => {
  it('refuses CSV sources when SCHEDULE_CSV_DIR is unset, naming the variable', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: `${prefix}nocsv` };
    const path = join(csvDir, 'a.csv');
    const r = await runCli(['schedule', 'add', 'csv', '--cron', '0 2 * * *', '--source', path], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SCHEDULE_CSV_DIR/);
    expect(() => validateSchedule({ name: 'c', cron: '0 2 * * *', source: { type: 'csv', path } })).toThrow(
      /SCHEDULE_CSV_DIR/,
    );
  });

  it('refuses paths outside the directory, with "..", or through a symlink out of it', async () => {
    const secret = join(outside, 'victims.csv');
    writeFileSync(secret, 'user\nvictim@contoso.com\n');
    mkdirSync(join(csvDir, 'sub'), { recursive: true });
    symlinkSync(secret, join(csvDir, 'link.csv'));
    symlinkSync(outside, join(csvDir, 'sub', 'dirlink'));
    const def = (path: string) => ({
      name: 'files',
      cron: '0 2 * * *',
      tz: 'UTC',
      source: { type: 'csv' as const, path },
    });
    for (const path of [
      secret,
      `${csvDir}/../${secret.split('/').slice(-2).join('/')}`,
      `${csvDir}/./x.csv`,
    ]) {
      await expect(addSchedule(ctx, def(path))).rejects.toBeInstanceOf(InvalidScheduleError);
      await expect(runSweep(ctx, def(path))).rejects.toBeInstanceOf(InvalidScheduleError);
    }
    // Lexically inside, really outside: refused when read.
    for (const path of [join(csvDir, 'link.csv'), join(csvDir, 'sub', 'dirlink', 'victims.csv')]) {
      await expect(runSweep(ctx, def(path))).rejects.toThrow(/outside SCHEDULE_CSV_DIR/);
    }
    expect(await ctx.retire.count()).toBe(0);
    // A file really inside the directory is read.
    writeFileSync(join(csvDir, 'ok.csv'), 'user\ncsvok@contoso.com\n');
    expect(await runSweep(ctx, def(join(csvDir, 'ok.csv')))).toMatchObject({ found: 1, new: 1 });
  });

  it('a worker refuses a tampered CSV path at tick time and enqueues nobody from it', {
    timeout: 120_000,
  }, async () => {
    const secret = join(outside, 'tampered.csv');
    writeFileSync(secret, 'user\ntampered@contoso.com\n');
    await tamper('tampered-csv', {
      name: 'tampered-csv',
      cron: '* * * * * *',
      tz: 'UTC',
      source: { type: 'csv', path: secret },
    });
    const refused = await waitFor(
      async () =>
        sweepsOf(await readAudit(ctx, { count: 1000 }), 'schedule:tampered-csv').find(
          (e) => e.details?.refused === true,
        ),
      { timeoutMs: 60_000, what: 'the tampered CSV tick to be refused' },
    );
    await untamper('tampered-csv');
    expect(refused.details?.error).toMatch(/SCHEDULE_CSV_DIR/);
    const jobs = await ctx.retire.getJobs(['waiting', 'delayed', 'active', 'completed']);
    expect(jobs.map((j) => j.data.user)).not.toContain('tampered@contoso.com');
  });
});
