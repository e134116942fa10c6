// Real `offboard` processes (api, worker) as children of the test, with their output captured to
// test-artifacts/faults/*.log so a failed fault run can be read afterwards. Every child is tracked
// and killed when the test process exits, so a crashed test never leaves workers behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI (the test global setup runs tsc first). */
export const CLI = join(ROOT, 'dist', 'cli.js');
export const ARTIFACTS_DIR = join(ROOT, 'test-artifacts', 'faults');

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Resolves once the process has exited (never rejects). */
  exited: Promise<ExitInfo>;
  running(): boolean;
  /** The last ~256 KB of stdout and stderr, interleaved. */
  output(): string;
  /** Resolves when `pattern` appears in the output; rejects after `timeoutMs` or if the process exits. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL if still alive after `timeoutMs` (default 30 s). */
  stop(timeoutMs?: number): Promise<ExitInfo>;
}

export interface SpawnOptions {
  /** Label used in the log file name and error messages, e.g. `worker-1`. */
  name: string;
  /** Added to a minimal inherited environment (PATH, HOME, NODE_*). */
  env: Record<string, string | undefined>;
  /** Log file group, usually the test name; default `misc`. */
  group?: string;
}

const live = new Set<ManagedProcess>();
const OUTPUT_KEEP = 256 * 1024;

process.once('exit', () => {
  for (const p of live) if (p.running()) p.child.kill('SIGKILL');
});

function baseEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Never leak the test runner's own settings (VITEST, REDIS_URL…) into the product's config.
    if (v !== undefined && (/^(PATH|HOME|TMPDIR|LANG|TZ)$/.test(k) || k.startsWith('NODE_'))) out[k] = v;
  }
  return out;
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80);
}

/** Spawns `node dist/cli.js <args…>` with output captured to test-artifacts/faults/<group>-<name>.log. */
export function spawnCli(args: string[], opts: SpawnOptions): ManagedProcess {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const logFile = join(ARTIFACTS_DIR, `${safeName(opts.group ?? 'misc')}-${safeName(opts.name)}.log`);
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  log.write(`--- ${new Date().toISOString()} spawn ${args.join(' ')}\n`);
  const env = { ...baseEnv(), ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(process.execPath, [CLI, ...args], {
    env: env as Record<string, string>,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffer = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    buffer += chunk.toString('utf8');
    if (buffer.length > OUTPUT_KEEP * 2) buffer = buffer.slice(-OUTPUT_KEEP);
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exitInfo: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolveExit) => {
    const done = (info: ExitInfo) => {
      if (exitInfo) return;
      exitInfo = info;
      log.end(`\n--- ${new Date().toISOString()} exit code=${info.code} signal=${info.signal}\n`);
      live.delete(managed);
      for (const w of waiters) w();
      resolveExit(info);
    };
    child.once('exit', (code, signal) => done({ code, signal }));
    child.once('error', (err) => {
      log.write(`spawn error: ${err.message}\n`);
      done({ code: -1, signal: null });
    });
  });
  const running = () => exitInfo === null;
  const managed: ManagedProcess = {
    name: opts.name,
    pid: child.pid ?? -1,
    child,
    logFile,
    exited,
    running,
    output: () => buffer,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise<string>((resolveWait, reject) => {
        const check = () => {
          const m = pattern.exec(buffer);
          if (m) {
            cleanup();
            resolveWait(m[0]);
          } else if (!running()) {
            cleanup();
            reject(new Error(`${opts.name} exited before printing ${pattern} (log: ${logFile})`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${opts.name} did not print ${pattern} within ${timeoutMs} ms (log: ${logFile})`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async kill(signal = 'SIGKILL') {
      if (running()) child.kill(signal);
      return exited;
    },
    async stop(timeoutMs = 30_000) {
      if (!running()) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (running()) child.kill('SIGKILL');
      }, timeoutMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
  live.add(managed);
  return managed;
}

export function spawnWorker(opts: SpawnOptions): ManagedProcess {
  return spawnCli(['worker'], opts);
}

export function spawnApi(opts: SpawnOptions): ManagedProcess {
  return spawnCli(['api'], opts);
}

/** Polls `url` until it answers 2xx; rejects when the process exits first or after `timeoutMs`. */
export async function waitForHttp(proc: ManagedProcess, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running()) throw new Error(`${proc.name} exited while starting (log: ${proc.logFile})`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${proc.name} did not answer ${url} (log: ${proc.logFile})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops every still-running child this module spawned (SIGTERM, then SIGKILL after `timeoutMs`). */
export async function stopAll(timeoutMs = 15_000): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(timeoutMs)));
}
