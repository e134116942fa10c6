#!/usr/bin/env node
// Container health check for both roles of the offboard image (Docker HEALTHCHECK, Kubernetes exec probe).
//
//   node deploy/healthcheck.mjs [api|worker|auto] [--max-age=60s]
//
// api:    GET http://127.0.0.1:$API_PORT/healthz answers 2xx within 3 s.
// worker: the worker exposes no HTTP. It writes a heartbeat every 10 s into the Redis hash
//         `<QUEUE_PREFIX>:offboard:workers` (field `<hostname>:<pid>`). Healthy = an entry of this
//         container's hostname is younger than --max-age (default 60 s). When Redis cannot be reached
//         the check PASSES: a Redis outage is not this container's fault, restarting every worker would
//         not fix it, and workers reconnect by themselves. What it catches is a wedged process (event
//         loop blocked, heartbeat stopped) while Redis is fine.
// auto:   (default) api or worker from the container's main command line (/proc/1/cmdline); anything
//         else (simulate-graph, demo, one-off CLI commands) is reported healthy.
//
// Exit 0 = healthy, 1 = unhealthy. It reads the same environment as the process it checks and reuses the
// product's own config loader and Redis client (so TLS, passwords and Redis Cluster work the same way).
import { readFileSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';

const REDIS_TIMEOUT_MS = 3000;

/** The role named by a NUL-separated command line, e.g. `node\0/usr/local/bin/offboard\0worker\0`. */
export function detectRole(cmdline) {
  const args = cmdline.split('\0').filter(Boolean);
  // The subcommand is the first argument after the program that is not an option.
  const i = args.findIndex((a) => /(^|\/)(offboard|cli\.js)$/.test(a));
  const sub = args.slice(i + 1).find((a) => !a.startsWith('-'));
  return sub === 'api' || sub === 'worker' ? sub : 'other';
}

export function parseMaxAge(text) {
  const m = /^(\d+)(ms|s|m)?$/.exec(text ?? '');
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

async function checkApi(env) {
  const host = ['', '0.0.0.0', '::'].includes(env.API_HOST ?? '') ? '127.0.0.1' : env.API_HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${env.API_PORT || 8080}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return { ok: res.ok, why: `api answered ${res.status}` };
  } catch (err) {
    return { ok: false, why: `api unreachable at ${url} (${err?.cause?.code ?? err?.name ?? 'error'})` };
  }
}

async function checkWorker(env, maxAgeMs) {
  const here = new URL('.', import.meta.url);
  const { loadConfig } = await import(new URL('../dist/config/load.js', here).href);
  const { createRedis } = await import(new URL('../dist/redis/connection.js', here).href);
  const { keys } = await import(new URL('../dist/queue/names.js', here).href);
  let config;
  try {
    config = loadConfig(env);
  } catch {
    // The worker itself refuses to start with a bad configuration; nothing to check here.
    return { ok: true, why: 'configuration invalid: the worker reports it itself' };
  }
  const redis = createRedis(config.redis, { name: 'offboard-healthcheck' });
  redis.on('error', () => {});
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), REDIS_TIMEOUT_MS);
  });
  try {
    const all = await Promise.race([
      redis.hgetall(keys.workers(config.redis.prefix)).catch(() => null),
      timeout,
    ]);
    if (all === null)
      return { ok: true, why: 'redis unreachable: not the worker’s fault, not restarting it' };
    const mine = Object.entries(all).filter(([id]) => id.startsWith(`${hostname()}:`));
    const newest = Math.max(0, ...mine.map(([, at]) => Number(at)).filter(Number.isFinite));
    const age = Date.now() - newest;
    if (newest > 0 && age <= maxAgeMs) return { ok: true, why: `heartbeat ${Math.round(age / 1000)} s old` };
    return {
      ok: false,
      why:
        newest > 0
          ? `heartbeat ${Math.round(age / 1000)} s old (max ${maxAgeMs / 1000} s)`
          : 'no heartbeat from this host',
    };
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

export async function main(argv = process.argv.slice(2), env = process.env) {
  let role = argv.find((a) => !a.startsWith('--')) ?? 'auto';
  const maxAgeArg = argv.find((a) => a.startsWith('--max-age='));
  const maxAgeMs = maxAgeArg ? parseMaxAge(maxAgeArg.slice('--max-age='.length)) : 60_000;
  if (!['api', 'worker', 'auto'].includes(role) || maxAgeMs === null) {
    process.stderr.write('usage: healthcheck.mjs [api|worker|auto] [--max-age=60s]\n');
    return 2;
  }
  if (role === 'auto') {
    try {
      role = detectRole(readFileSync('/proc/1/cmdline', 'utf8'));
    } catch {
      role = 'other';
    }
  }
  const result =
    role === 'api'
      ? await checkApi(env)
      : role === 'worker'
        ? await checkWorker(env, maxAgeMs)
        : { ok: true, why: 'no health check for this command' };
  process.stdout.write(`${role}: ${result.ok ? 'healthy' : 'UNHEALTHY'}: ${result.why}\n`);
  return result.ok ? 0 : 1;
}

const invokedDirectly = (() => {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
// Exit explicitly: a client still reconnecting must not hold the probe open past its timeout.
if (invokedDirectly) process.exit(await main());
