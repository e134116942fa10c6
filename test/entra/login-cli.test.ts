// `offboard login` as an operator runs it: a child process, device-code text on stderr, result on stdout.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/queue/names.js';
import { createRedis, type RedisClient } from '../../src/redis/connection.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Simulator, startTestSimulator } from '../helpers/sim.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

let sim: Simulator;
let redisServer: TestRedis;
let redis: RedisClient;

beforeAll(async () => {
  [sim, redisServer] = await Promise.all([startTestSimulator(), startRedis()]);
  redis = createRedis({ url: redisServer.url, prefix: redisServer.prefix });
});

afterAll(async () => {
  redis?.disconnect();
  await Promise.all([sim?.close(), redisServer?.stop()]);
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function offboard(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function delegatedEnv(): Record<string, string> {
  return {
    AUTH_MODE: 'delegated',
    AZURE_AUTHORITY_HOST: sim.authorityHost,
    AZURE_TENANT_ID: sim.tenantId,
    AZURE_CLIENT_ID: sim.clientId,
    GRAPH_BASE_URL: sim.graphBaseUrl,
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: redisServer.prefix,
    TOKEN_CACHE_KEY: randomBytes(32).toString('base64'),
  };
}

describe('offboard login', () => {
  it('signs in with a device code and stores the encrypted cache', async () => {
    const run = await offboard(['login', '--json'], delegatedEnv());
    expect(run.stderr).toMatch(/enter the code/);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ signedIn: true, tenantId: sim.tenantId, clientId: sim.clientId });
    expect(out.username).toMatch(/@/);
    const stored = await redis.get(keys.tokenCache(redisServer.prefix, sim.clientId));
    expect(JSON.parse(stored as string)).toMatchObject({ v: 1, alg: 'A256GCM' });

    const plain = await offboard(['login'], delegatedEnv());
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim()).toBe(`signed in as ${out.username}`);
  });

  it('is a usage error (exit 2) outside delegated mode or without TOKEN_CACHE_KEY', async () => {
    const app = await offboard(['login'], { ...delegatedEnv(), AUTH_MODE: 'app' });
    expect(app.code).toBe(2);
    expect(app.stderr).toMatch(/AUTH_MODE=delegated/);
    const { TOKEN_CACHE_KEY: _omit, ...noKey } = delegatedEnv();
    const missing = await offboard(['login'], { ...noKey, TOKEN_CACHE_KEY: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/TOKEN_CACHE_KEY/);
  });

  it('a token endpoint outage fails the sign-in with exit 1 and a clear reason', async () => {
    sim.control({ token: { outage: 503 } });
    try {
      const run = await offboard(['login'], delegatedEnv());
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/token endpoint unavailable \(HTTP 503\)/);
    } finally {
      sim.control({ token: { outage: null } });
    }
  });
});
