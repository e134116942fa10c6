// A private Redis Cluster for tests: N masters on loopback, each with its own directory and
// explicit data and bus ports, joined with `redis-cli --cluster create`. Never a mock.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './redis.js';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  busPort: number;
  dir: string;
}

export interface TestCluster {
  nodes: ClusterNode[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…` as REDIS_URL accepts it. */
  url: string;
  /** A hash-tagged prefix, unique per call, as Redis Cluster requires. */
  prefix: string;
  stop(): Promise<void>;
  /** Stops every node (SHUTDOWN NOSAVE); `startAll` brings them back from their nodes.conf. */
  stopAll(): Promise<void>;
  startAll(): Promise<void>;
}

export interface StartClusterOptions {
  /** Default 3 (the minimum Redis accepts for a cluster without replicas). */
  masters?: number;
  /** How long to wait for `cluster_state:ok`. Default 30 s. */
  timeoutMs?: number;
  /** Sets requirepass and masterauth on every node; the URL then carries `:password@`. */
  password?: string;
}

function probe(port: number, password?: string): Redis {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => {});
  return c;
}

async function ping(port: number, password?: string): Promise<boolean> {
  const c = probe(port, password);
  try {
    await c.connect();
    await c.ping();
    return true;
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

async function clusterInfo(port: number, password?: string): Promise<string> {
  const c = probe(port, password);
  try {
    await c.connect();
    return String(await c.call('CLUSTER', 'INFO'));
  } catch {
    return '';
  } finally {
    c.disconnect();
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let counter = 0;

// A crashed test file must not leave cluster nodes behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

export async function startCluster(opts: StartClusterOptions = {}): Promise<TestCluster> {
  const masters = opts.masters ?? 3;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const nodes: ClusterNode[] = [];
  const used = new Set<number>();
  const pick = async () => {
    for (;;) {
      const p = await freePort();
      if (!used.has(p)) {
        used.add(p);
        return p;
      }
    }
  };
  for (let i = 0; i < masters; i++) {
    nodes.push({
      port: await pick(),
      busPort: await pick(),
      dir: mkdtempSync(join(tmpdir(), 'offboard-cluster-')),
    });
  }
  const procs = new Map<number, ChildProcess>();
  const startNode = (n: ClusterNode) => {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(n.port),
        '--cluster-port',
        String(n.busPort),
        '--bind',
        '127.0.0.1',
        '--dir',
        n.dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(n.dir, 'nodes.conf'),
        '--cluster-node-timeout',
        '5000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
        ...(opts.password ? ['--requirepass', opts.password, '--masterauth', opts.password] : []),
      ],
      { stdio: 'ignore' },
    );
    procs.set(n.port, proc);
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
  };
  const waitAllOk = async () => {
    for (const n of nodes)
      await until(`node ${n.port} to answer`, timeoutMs, () => ping(n.port, opts.password));
    await until('cluster_state:ok on every node', timeoutMs, async () => {
      const infos = await Promise.all(nodes.map((n) => clusterInfo(n.port, opts.password)));
      return infos.every((i) => i.includes('cluster_state:ok'));
    });
  };
  const stopNode = async (n: ClusterNode) => {
    const proc = procs.get(n.port);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const c = probe(n.port, opts.password);
    await c.call('SHUTDOWN', 'NOSAVE').catch(() => {});
    c.disconnect();
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  try {
    for (const n of nodes) startNode(n);
    for (const n of nodes)
      await until(`node ${n.port} to answer`, timeoutMs, () => ping(n.port, opts.password));
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
        ...(opts.password ? ['-a', opts.password, '--no-auth-warning'] : []),
      ],
      { timeout: timeoutMs },
    );
    await waitAllOk();
  } catch (err) {
    await Promise.allSettled(nodes.map(stopNode));
    for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
    throw err;
  }

  const prefix = `{t${process.pid}x${++counter}x${Date.now().toString(36)}}`;
  return {
    nodes,
    url: `redis+cluster://${opts.password ? `:${encodeURIComponent(opts.password)}@` : ''}${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    prefix,
    async stopAll() {
      await Promise.allSettled(nodes.map(stopNode));
    },
    async startAll() {
      for (const n of nodes) startNode(n);
      await waitAllOk();
    },
    async stop() {
      await Promise.allSettled(nodes.map(stopNode));
      for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
    },
  };
}
