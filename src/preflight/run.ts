// `offboard preflight`, GET /v1/preflight and the console's panel all run this: read-only go-live
// checks against the configured tenant. It never sends anything but GETs to Graph, never adds, moves
// or removes a job, and never changes the queues' state; its reads take read-budget slots.
import type { Config } from '../config/load.js';
import { createTokenProvider } from '../entra/provider.js';
import type { TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import { createReadPacer } from '../pacing/read-pacer.js';
import { devicePolicyPermissions, policyActions } from './device-permissions.js';
import { requiredPermissions } from './permissions.js';
import { checkEntraSweepRead, checkInventoryRead } from './read-checks.js';
import { checkCircuit, checkQueues, checkRedis, entraSweeps, type RedisEnv } from './redis-checks.js';
import { checkPermissions, checkToken } from './token-checks.js';
import type { PreflightCheck, PreflightReport } from './types.js';

export interface PreflightOptions extends RedisEnv {
  config: Config;
  /** A known test user (UPN or object id, normalised) for the inventory read; default one directory user. */
  user?: string;
  /** Default: a fresh provider for the configured AUTH_MODE, closed afterwards. */
  tokenProvider?: TokenProvider;
  logger?: Logger;
  signal?: AbortSignal;
}

function skipped(id: PreflightCheck['id'], detail: string): PreflightCheck {
  return { id, status: 'skip', detail };
}

function notRun(id: PreflightCheck['id'], why: string): PreflightCheck {
  return { id, status: 'fail', detail: `not run: ${why}`, fix: 'fix the checks above first' };
}

export async function runPreflight(opts: PreflightOptions): Promise<PreflightReport> {
  const { config } = opts;
  const at = new Date().toISOString();
  const redisChecks = await checkRedis(opts);
  const redisUp = redisChecks[0]?.status === 'pass';
  const sweeps = redisUp ? await entraSweeps(opts) : [];
  const required = requiredPermissions({
    evidence: config.evidence.enabled,
    entraSweep: sweeps.length > 0,
    ...(config.devicePolicy
      ? { devicePolicy: devicePolicyPermissions(policyActions(config.devicePolicy)) }
      : {}),
  });

  let provider: TokenProvider | Error;
  const own = !opts.tokenProvider;
  try {
    provider = opts.tokenProvider ?? createTokenProvider(config, { redis: opts.redis, logger: opts.logger });
  } catch (err) {
    provider = err as Error;
  }
  const checks: PreflightCheck[] = [];
  try {
    const token = await checkToken(config, provider);
    checks.push(token.check, checkPermissions(config, required, token.claims));
    checks.push(...(await readChecks(opts, sweeps, token.token, redisUp)));
  } finally {
    if (own && !(provider instanceof Error)) await provider.close?.().catch(() => {});
  }
  checks.push(...redisChecks);
  if (redisUp) checks.push(await checkQueues(opts), await checkCircuit(opts));
  else checks.push(notRun('queues.paused', 'Redis unreachable'), notRun('circuit', 'Redis unreachable'));
  return {
    ok: checks.every((c) => c.status !== 'fail'),
    at,
    mode: config.auth.mode,
    tenantId: config.auth.tenantId ?? null,
    graphBaseUrl: config.graph.baseUrl,
    required,
    checks,
  };
}

async function readChecks(
  opts: PreflightOptions,
  sweeps: { name: string; lookaheadMs: number }[],
  token: string | undefined,
  redisUp: boolean,
): Promise<PreflightCheck[]> {
  const { config } = opts;
  const why = !token ? 'no token' : !redisUp ? 'Redis unreachable (reads go through the read pacer)' : '';
  const sweepNeeded = sweeps.length > 0;
  if (why || !token) {
    return [
      sweepNeeded ? notRun('read.entra-sweep', why) : skipped('read.entra-sweep', 'no Entra sweep schedule'),
      config.evidence.enabled ? notRun('read.inventory', why) : skipped('read.inventory', 'EVIDENCE=off'),
    ];
  }
  // holdKey null: an open circuit must not hold preflight, which is how an operator checks the fix.
  const pacer = createReadPacer({
    redis: opts.redis,
    prefix: opts.prefix,
    config,
    tuning: { holdKey: null },
  });
  const env = { config, token, pacer, ...(opts.signal ? { signal: opts.signal } : {}) };
  const longest = sweeps.reduce(
    (a, s) => (s.lookaheadMs > a.lookaheadMs ? s : a),
    sweeps[0] ?? { name: '', lookaheadMs: 0 },
  );
  return [
    sweepNeeded
      ? await checkEntraSweepRead(env, longest.lookaheadMs)
      : skipped('read.entra-sweep', 'no Entra sweep schedule: the product reads no users'),
    config.evidence.enabled
      ? await checkInventoryRead(env, opts.user)
      : skipped('read.inventory', 'EVIDENCE=off: the product reads no devices'),
  ];
}
