// A private redis-server per benchmark scenario, so no other process's keys or load skew the figures.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { track } from './children.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export class RedisStartError extends Error {
  override readonly name = 'RedisStartError';
}

export interface BenchRedis {
  url: string;
  /** A plain client for measurements (INFO, counters); not used by the system under test. */
  client: Redis;
  /** `used_memory` in bytes, after Redis has settled (lazy frees done). */
  usedMemory(): Promise<number>;
  /** Calls per command since start (INFO commandstats; commands inside Lua scripts count too). */
  commandCalls(): Promise<Record<string, number>>;
  version: string;
  stop(): Promise<void>;
}

/** Per-command difference between two commandCalls() snapshots, divided by `per`, largest first. */
export function callsDelta(
  before: Record<string, number>,
  after: Record<string, number>,
  per: number,
): Record<string, number> {
  const out: [string, number][] = [];
  for (const [cmd, n] of Object.entries(after)) {
    const d = n - (before[cmd] ?? 0);
    if (d > 0) out.push([cmd, Math.round((d / per) * 100) / 100]);
  }
  return Object.fromEntries(out.sort((a, b) => b[1] - a[1]));
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'offboard-bench-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  // No persistence: the same for the product and every baseline, and disk speed is not what we measure.
  const proc: ChildProcess = track(
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    ),
  );
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch {
      client.disconnect();
      if (Date.now() > deadline)
        throw new RedisStartError(`bench redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const info = await client.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    url,
    client,
    version,
    async usedMemory() {
      // lazyfree work may still be running right after a big delete; let it settle.
      await new Promise((r) => setTimeout(r, 200));
      const mem = await client.info('memory');
      return Number(/used_memory:(\d+)/.exec(mem)?.[1] ?? Number.NaN);
    },
    async commandCalls() {
      const text = await client.info('commandstats');
      const out: Record<string, number> = {};
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1] as string] = Number(m[2]);
      return out;
    },
    async stop() {
      await client.call('SHUTDOWN', 'NOSAVE').catch(() => {});
      client.disconnect();
      if (proc.exitCode === null && proc.signalCode === null) {
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
