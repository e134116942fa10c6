// deploy/healthcheck.mjs is what Docker's HEALTHCHECK and the Kubernetes worker liveness probe run.
// Exercised as a real child process against a real API and a real Redis, as the container would.
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectRole, parseMaxAge } from '../../deploy/healthcheck.mjs';
import { type RunningApi, startApi } from '../../src/api/server.js';
import { startHeartbeat } from '../../src/host/heartbeat.js';
import { createLogger } from '../../src/log.js';
import { keys } from '../../src/queue/names.js';
import { testConfig } from '../helpers/config.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../deploy/healthcheck.mjs', import.meta.url));

async function probe(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [SCRIPT, ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
      timeout: 20_000,
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '' };
  }
}

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe('role detection from the container command line', () => {
  it('finds the subcommand after the offboard binary, with or without an init process', () => {
    expect(detectRole('node\0/usr/local/bin/offboard\0worker\0')).toBe('worker');
    expect(detectRole('/sbin/docker-init\0--\0offboard\0api\0')).toBe('api');
    expect(detectRole('node\0/app/dist/cli.js\0--verbose\0worker\0--concurrency\x005\0')).toBe('worker');
    expect(detectRole('node\0/usr/local/bin/offboard\0simulate-graph\0')).toBe('other');
    expect(detectRole('node\0/usr/local/bin/offboard\0dlq\0list\0')).toBe('other');
  });

  it('parses --max-age durations', () => {
    expect(parseMaxAge('60s')).toBe(60_000);
    expect(parseMaxAge('2m')).toBe(120_000);
    expect(parseMaxAge('1500ms')).toBe(1500);
    expect(parseMaxAge('45')).toBe(45_000);
    expect(parseMaxAge('soon')).toBeNull();
  });

  it('rejects an unknown role with exit 2', async () => {
    expect((await probe(['scheduler'], {})).code).toBe(2);
  });
});

describe('worker liveness (heartbeat in Redis)', () => {
  const field = (pid: number) => `${hostname()}:${pid}`;

  it('healthy while this host has a fresh heartbeat, unhealthy when it is stale or missing', async () => {
    const prefix = `${redis.prefix}hc`;
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
    const key = keys.workers(prefix);

    const missing = await probe(['worker'], env);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('no heartbeat');

    // Another host's fresh beat does not make this one healthy.
    await client.hset(key, 'some-other-pod:1', String(Date.now()));
    expect((await probe(['worker'], env)).code).toBe(1);

    await client.hset(key, field(1), String(Date.now() - 5_000));
    const fresh = await probe(['worker', '--max-age=60s'], env);
    expect(fresh.code).toBe(0);
    expect(fresh.out).toContain('healthy');

    await client.hset(key, field(1), String(Date.now() - 120_000));
    const stale = await probe(['worker', '--max-age=60s'], env);
    expect(stale.code).toBe(1);
    expect(stale.out).toMatch(/heartbeat \d+ s old/);
  });

  it('reads exactly what the worker heartbeat writes', async () => {
    const prefix = `${redis.prefix}hb`;
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
    const beat = startHeartbeat({ redis: client, prefix, intervalMs: 1000 });
    try {
      expect((await probe(['worker'], env)).code).toBe(0);
    } finally {
      await beat.stop();
    }
    // A cleanly stopped worker removes its entry: its container is on its way out anyway.
    expect((await probe(['worker'], env)).code).toBe(1);
  });

  it('passes when Redis is unreachable (an outage must not restart every worker)', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await probe(['worker'], { REDIS_URL: `redis://127.0.0.1:${port}`, QUEUE_PREFIX: 'offboard' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('redis unreachable');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('api liveness (/healthz)', () => {
  let api: RunningApi | undefined;

  afterAll(async () => {
    await api?.close();
  });

  it('healthy while the real API serves /healthz on API_PORT, unhealthy once it is gone', async () => {
    const config = testConfig({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `${redis.prefix}api`,
      API_AUTH: 'disabled',
      API_PORT: '0',
      API_HOST: '127.0.0.1',
    });
    api = await startApi(config, { logger: createLogger({ level: 'silent' }) });
    const port = new URL(api.url).port;
    const up = await probe(['api'], { API_PORT: port, API_HOST: '0.0.0.0' });
    expect(up).toMatchObject({ code: 0 });
    expect(up.out).toContain('answered 200');

    await api.close();
    api = undefined;
    const down = await probe(['api'], { API_PORT: port });
    expect(down.code).toBe(1);
    expect(down.out).toContain('unreachable');
  });
});
