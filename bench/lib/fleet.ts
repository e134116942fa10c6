// Worker processes under test: the product's `node dist/cli.js worker` and the two baselines in
// bench/workers/, each spawned as real child processes with the same environment.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { productCli } from './build.js';
import { track } from './children.js';
import { ROOT } from './paths.js';

/**
 * `offboard` = the shipped worker; `bare` = plain BullMQ + fetch; `bare-request` = plain BullMQ + undici's
 * request() (the HTTP client the product uses), to tell the pipeline's cost from the client's;
 * `sdk-retry` = Graph SDK RetryHandler style.
 */
export type WorkerKind = 'offboard' | 'bare' | 'bare-request' | 'sdk-retry';

export interface FleetOptions {
  kind: WorkerKind;
  processes: number;
  /** Environment in the product's variable names (REDIS_URL, QUEUE_PREFIX, GRAPH_BASE_URL, AZURE_*, …). */
  env: Record<string, string>;
  /** Write a V8 CPU profile per process into this directory (node --cpu-prof). */
  cpuProfDir?: string;
  /** How long to wait for every process to register its BullMQ worker. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface Fleet {
  procs: ChildProcess[];
  /** CPU time (user + system) the processes have used so far, in ms; NaN where /proc is missing. */
  cpuMs(): number;
  /** Last lines each process wrote to stderr (for error reports). */
  stderr(): string;
  stop(): Promise<void>;
}

export class FleetStartError extends Error {
  override readonly name = 'FleetStartError';
}

function command(kind: WorkerKind, cpuProfDir?: string): string[] {
  const prof = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  if (kind === 'offboard') return [...prof, productCli(), 'worker'];
  const file = kind === 'bare' || kind === 'bare-request' ? 'bare-worker.ts' : 'sdk-retry-worker.ts';
  return ['--import', 'tsx', ...prof, join(ROOT, 'bench', 'workers', file)];
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true });
  const tails: string[][] = [];
  const procs = Array.from({ length: opts.processes }, (_, i) => {
    const child = track(
      spawn(process.execPath, command(opts.kind, opts.cpuProfDir), {
        cwd: ROOT,
        env: {
          ...process.env,
          LOG_LEVEL: 'warn',
          ...opts.env,
          ...(opts.kind === 'bare-request' ? { BARE_HTTP: 'request' } : {}),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    const tail: string[] = [];
    tails[i] = tail;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      tail.push(chunk);
      if (tail.length > 20) tail.shift();
    });
    return child;
  });
  const fleet: Fleet = {
    procs,
    cpuMs: () => procs.reduce((sum, p) => sum + processCpuMs(p.pid), 0),
    stderr: () => tails.map((t, i) => `[${opts.kind} #${i}] ${t.join('').trim()}`).join('\n'),
    async stop() {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve();
              // A CPU profile is only written on a clean exit, so give SIGTERM time before SIGKILL.
              const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
              p.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              p.kill('SIGTERM');
            }),
        ),
      );
    },
  };
  try {
    await waitForWorkers(opts, procs);
  } catch (err) {
    const detail = fleet.stderr();
    await fleet.stop();
    throw new FleetStartError(`${(err as Error).message}\n${detail}`);
  }
  return fleet;
}

/** Linux /proc/<pid>/stat: utime and stime (fields 14 and 15) in clock ticks of 10 ms. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Ready = every process has its blocking BullMQ connection registered on the `retire` queue. */
async function waitForWorkers(opts: FleetOptions, procs: ChildProcess[]): Promise<void> {
  const connection = new Redis(opts.env.REDIS_URL as string, { maxRetriesPerRequest: 1 });
  connection.on('error', () => {});
  const queue = new Queue('retire', { connection, prefix: opts.env.QUEUE_PREFIX });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  try {
    for (;;) {
      const dead = procs.find((p) => p.exitCode !== null || p.signalCode !== null);
      if (dead) throw new Error(`${opts.kind} worker exited early (code ${dead.exitCode})`);
      const count = await queue.getWorkersCount();
      if (count >= opts.processes) return;
      if (Date.now() > deadline)
        throw new Error(`${opts.kind}: only ${count}/${opts.processes} workers ready`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
