// The product's HTTP API as its own process (`node dist/cli.js api`), as HR systems reach it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { productCli } from './build.js';
import { track } from './children.js';
import { ROOT } from './paths.js';
import { freePort } from './redis.js';

export interface ApiProcess {
  url: string;
  /** A producer key, sent as `x-api-key`. */
  key: string;
  headers: Record<string, string>;
  stop(): Promise<void>;
}

export class ApiStartError extends Error {
  override readonly name = 'ApiStartError';
}

export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const key = `obk_${randomBytes(24).toString('base64url')}`;
  const sha = createHash('sha256').update(key).digest('hex');
  const port = await freePort();
  const child: ChildProcess = track(
    spawn(process.execPath, [productCli(), 'api'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        API_PORT: String(port),
        API_HOST: '127.0.0.1',
        API_KEYS: `bench:producer:${sha}`,
        // The benchmark measures intake, not the per-key request limiter or the mass-change hold.
        API_RATE_LIMIT: '1000000',
        GUARD_THRESHOLD: '1000000',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    stderr = (stderr + c).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new ApiStartError(`api exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new ApiStartError(`api did not become ready: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    key,
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    stop,
  };
}
