// `offboard keys new` and `offboard api` as real processes (node dist/cli.js).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { pollUntil } from './helpers.js';

const CLI = ['dist/cli.js'];
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => redis.stop());

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync('node', [...CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
}

describe('offboard keys new', () => {
  it('prints a fresh key once with the config line holding only its hash', () => {
    const a = run(['keys', 'new', '--name', 'hr-system', '--role', 'producer']);
    expect(a.status).toBe(0);
    const key = a.stdout.match(/obk_[A-Za-z0-9_-]{43}/)?.[0] as string;
    expect(key).toBeDefined();
    const sha = createHash('sha256').update(key).digest('hex');
    expect(a.stdout).toContain(`hr-system:producer:${sha}`);
    const b = run(['keys', 'new', '--name', 'hr-system', '--role', 'producer', '--json']);
    const json = JSON.parse(b.stdout) as { key: string; sha256: string; configLine: string; role: string };
    expect(json.key).not.toBe(key);
    expect(json.configLine).toBe(`hr-system:producer:${json.sha256}`);
    expect(createHash('sha256').update(json.key).digest('hex')).toBe(json.sha256);
  });

  it('refuses a bad role or name with exit code 2', () => {
    expect(run(['keys', 'new', '--name', 'x', '--role', 'admin']).status).toBe(2);
    expect(run(['keys', 'new', '--name', 'bad name', '--role', 'viewer']).status).toBe(2);
    expect(run(['keys', 'new', '--role', 'viewer']).status).toBe(2);
  });
});

describe('offboard api', () => {
  const base = () => ({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    API_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });

  it('refuses to start without keys (exit 2) unless API_AUTH=disabled', () => {
    const res = run(['api'], { ...base(), API_KEYS: '', API_KEYS_FILE: '', API_PORT: '0' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('API_KEYS or API_KEYS_FILE');
  });

  it('serves with a key made by `keys new`, logs the URL, and stops cleanly on SIGTERM', async () => {
    const made = JSON.parse(run(['keys', 'new', '--name', 'ops', '--role', 'operator', '--json']).stdout) as {
      key: string;
      configLine: string;
    };
    let out = '';
    const child: ChildProcess = spawn('node', [...CLI, 'api'], {
      env: { ...process.env, ...base(), API_PORT: '0', API_KEYS: made.configLine },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => {
      out += String(d);
    });
    child.stderr?.on('data', (d) => {
      out += String(d);
    });
    try {
      const line = await pollUntil(
        async () => out.split('\n').find((l) => l.includes('offboard API listening')),
        (l) => l !== undefined,
        30_000,
      );
      const url = (JSON.parse(line as string) as { url: string }).url;
      const ok = await fetch(`${url}/v1/queues`, { headers: { authorization: `Bearer ${made.key}` } });
      expect(ok.status).toBe(200);
      expect((await fetch(`${url}/v1/queues`)).status).toBe(401);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).not.toContain(made.key);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('with API_AUTH=disabled starts and warns', async () => {
    let out = '';
    const child = spawn('node', [...CLI, 'api'], {
      env: { ...process.env, ...base(), API_PORT: '0', API_KEYS: '', API_AUTH: 'disabled' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => {
      out += String(d);
    });
    try {
      await pollUntil(
        async () => out,
        (o) => o.includes('offboard API listening'),
        30_000,
      );
      expect(out).toContain('API_AUTH=disabled');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
