// A private redis-server per test file on a free port (or REDIS_URL when given), never a mock.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitForRedis } from '../../src/demo/redis-server.js';

export { freePort };

export interface TestRedis {
  url: string;
  port: number;
  /** Unique per call so tests sharing an external REDIS_URL do not collide. */
  prefix: string;
  dir: string;
  stop(): Promise<void>;
  /** Graceful SHUTDOWN then start again on the same port and directory (AOF keeps the data). */
  restart(opts?: { downMs?: number }): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
}

export interface StartRedisOptions {
  appendonly?: boolean;
  extraArgs?: string[];
}

let counter = 0;

export async function startRedis(opts: StartRedisOptions = {}): Promise<TestRedis> {
  const prefix = `t${process.pid}x${++counter}x${Date.now().toString(36)}`;
  if (process.env.REDIS_URL && !opts.appendonly && !opts.extraArgs) {
    const url = process.env.REDIS_URL;
    const noop = async () => {};
    return {
      url,
      port: Number(new URL(url).port || 6379),
      prefix,
      dir: '',
      stop: noop,
      restart: noop,
      kill: noop,
      start: noop,
    };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'offboard-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        opts.appendonly ? 'yes' : 'no',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
        ...(opts.extraArgs ?? []),
      ],
      { stdio: 'ignore' },
    );
    await waitForRedis(url);
  };
  const exited = () =>
    new Promise<void>((resolve) => {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
    });
  const shutdown = async () => {
    if (!proc || proc.exitCode !== null) return;
    const c = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    await c.call('SHUTDOWN', opts.appendonly ? 'SAVE' : 'NOSAVE').catch(() => {});
    c.disconnect();
    await exited();
  };
  await start();
  return {
    url,
    port,
    prefix,
    dir,
    start,
    async stop() {
      await shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart(o = {}) {
      await shutdown();
      if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
      await start();
    },
    async kill() {
      proc?.kill('SIGKILL');
      await exited();
    },
  };
}
