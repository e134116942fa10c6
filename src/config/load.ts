// The one place that reads the environment. Every problem is collected and reported together.
import { readFileSync } from 'node:fs';
import { type ApiKeyEntry, parseApiKeys } from './api-keys.js';
import { ConfigError } from './errors.js';
import { parseBool, parseDuration, parseRate, type RateLimit } from './parse.js';

export type AppCredential =
  | { kind: 'secret'; secret: string }
  | { kind: 'certificate'; path: string; password?: string }
  | { kind: 'federated'; tokenFile: string };

export interface Config {
  redis: {
    url: string;
    /** Set for Redis Cluster (`redis+cluster://h1:p1,h2:p2` or `REDIS_CLUSTER_NODES`). */
    clusterNodes?: { host: string; port: number }[];
    prefix: string;
  };
  graph: {
    baseUrl: string;
    /** Per-call timeout. Default 30 s. */
    timeoutMs: number;
    /** Proactive limit shared by all workers. Default 200 per 20 s (Intune's per-app limit). */
    rateLimit: RateLimit;
    /**
     * Fraction of the limit the shared pacer aims for (GRAPH_RATE_HEADROOM, default 0.97): evenly
     * spaced calls just under the limit never exceed a sliding window even with a little network jitter.
     */
    rateHeadroom: number;
  };
  auth: {
    mode: 'app' | 'delegated';
    authorityHost: string;
    tenantId?: string;
    clientId?: string;
    credential?: AppCredential;
    /** 32-byte AES-256-GCM key for the delegated token cache. */
    tokenCacheKey?: Buffer;
  };
  worker: {
    concurrency: number;
    /** Durable BullMQ attempts per job (the failure budget). Default 6. */
    attempts: number;
    /** p-retry retries inside one BullMQ attempt. Default 2. */
    inCallRetries: number;
    backoffBaseMs: number;
    backoffCapMs: number;
    /** Throttled waits a job may take before it is dead-lettered as `throttled_exhausted`. Default 50. */
    throttleWaitCap: number;
    /** 403s from this many distinct users inside the window open the circuit. Default 5 in 60 s. */
    forbiddenThreshold: number;
    forbiddenWindowMs: number;
    shutdownTimeoutMs: number;
    dryRun: boolean;
    /** How often workers look for jobs whose worker died (WORKER_STALLED_INTERVAL, default 30s). */
    stalledIntervalMs: number;
    /**
     * Job lock lifetime (WORKER_LOCK_DURATION, default 30s). BullMQ renews it every half-life while the
     * job runs, so long Graph calls or pacing waits are fine; a killed worker's jobs are taken over
     * after roughly lockDuration + stalledInterval.
     */
    lockDurationMs: number;
  };
  api: {
    port: number;
    host: string;
    keys: ApiKeyEntry[];
    authDisabled: boolean;
    /** Requests per minute per API key. Default 600. */
    rateLimitPerMinute: number;
    bodyLimitBytes: number;
  };
  guard: { threshold: number; twoPerson: boolean; ttlMs: number };
  retention: {
    auditMaxLen: number;
    historyMaxLen: number;
    historyTtlMs: number;
    completedAgeMs: number;
    completedCount: number;
    failedAgeMs: number;
  };
  logLevel: string;
}

export interface LoadOptions {
  /** Require the Azure app registration settings (worker, login). */
  needAuth?: boolean;
  /** Require API keys unless API_AUTH=disabled (api). */
  needApi?: boolean;
}

type Env = Record<string, string | undefined>;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

export function loadConfig(env: Env = process.env, opts: LoadOptions = {}): Config {
  const issues: string[] = [];
  const str = (name: string, def?: string) => {
    const v = env[name];
    return v === undefined || v === '' ? def : v;
  };
  const int = (name: string, def: number, min: number, max: number) => {
    const raw = str(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || n < min || n > max) {
      issues.push(`${name}: must be a whole number from ${min} to ${max} (got "${raw}")`);
      return def;
    }
    return n;
  };
  const dur = (name: string, def: string) => {
    const raw = str(name, def) as string;
    const ms = parseDuration(raw);
    if (ms === null) issues.push(`${name}: must be a duration like 500ms, 20s, 15m, 72h, 7d (got "${raw}")`);
    return ms ?? (parseDuration(def) as number);
  };
  const bool = (name: string, def: boolean) => {
    const raw = str(name);
    if (raw === undefined) return def;
    const b = parseBool(raw);
    if (b === null) issues.push(`${name}: must be true or false (got "${raw}")`);
    return b ?? def;
  };
  const url = (name: string, def: string, httpsOnly: boolean) => {
    const raw = str(name, def) as string;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
        issues.push(`${name}: must be an https URL (http only for loopback hosts) (got "${raw}")`);
      } else if (!httpsOnly && u.protocol !== 'https:' && u.protocol !== 'http:') {
        issues.push(`${name}: must be an http(s) URL`);
      }
      return raw.replace(/\/+$/, '');
    } catch {
      issues.push(`${name}: not a valid URL (got "${raw}")`);
      return def;
    }
  };

  // Redis
  const redisUrl = str('REDIS_URL', 'redis://127.0.0.1:6379') as string;
  let clusterNodes: Config['redis']['clusterNodes'];
  const parseNodes = (name: string, list: string) => {
    const nodes = list.split(',').map((hp) => {
      const [host, port] = hp.trim().split(':');
      return { host: host ?? '', port: Number(port ?? 6379) };
    });
    if (nodes.some((n) => !n.host || !Number.isInteger(n.port) || n.port < 1 || n.port > 65535)) {
      issues.push(`${name}: expected host:port[,host:port…]`);
      return undefined;
    }
    return nodes;
  };
  if (redisUrl.startsWith('redis+cluster://') || redisUrl.startsWith('rediss+cluster://')) {
    const rest = redisUrl.replace(/^rediss?\+cluster:\/\//, '').replace(/^[^@]*@/, '');
    clusterNodes = parseNodes('REDIS_URL', rest.replace(/\/.*$/, ''));
  } else {
    try {
      const u = new URL(redisUrl);
      if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('protocol');
    } catch {
      issues.push(`REDIS_URL: must be redis://, rediss:// or redis+cluster:// (got "${redact(redisUrl)}")`);
    }
  }
  const nodesEnv = str('REDIS_CLUSTER_NODES');
  if (nodesEnv) clusterNodes = parseNodes('REDIS_CLUSTER_NODES', nodesEnv);
  const prefix = str('QUEUE_PREFIX', 'offboard') as string;
  if (!/^[{}A-Za-z0-9._-]{1,64}$/.test(prefix) || prefix.includes(':')) {
    issues.push(`QUEUE_PREFIX: 1-64 characters of A-Z a-z 0-9 . _ - { } (got "${prefix}")`);
  }
  if (clusterNodes && !/^\{[^{}]+\}$/.test(prefix)) {
    issues.push('QUEUE_PREFIX: on Redis Cluster it must be a hash tag such as {offboard}');
  }

  // Graph
  const graphBaseUrl = url('GRAPH_BASE_URL', 'https://graph.microsoft.com/v1.0', true);
  const rateRaw = str('GRAPH_RATE_LIMIT', '200/20s') as string;
  const rate = parseRate(rateRaw);
  if (!rate) issues.push(`GRAPH_RATE_LIMIT: expected N/duration such as 200/20s (got "${rateRaw}")`);

  // Auth
  const mode = str('AUTH_MODE', 'app') as string;
  if (mode !== 'app' && mode !== 'delegated')
    issues.push(`AUTH_MODE: must be app or delegated (got "${mode}")`);
  const authorityHost = url('AZURE_AUTHORITY_HOST', 'https://login.microsoftonline.com', true);
  if (authorityHost.startsWith('http:')) {
    issues.push('AZURE_AUTHORITY_HOST: must be https (MSAL refuses plain http authorities)');
  }
  const tenantId = str('AZURE_TENANT_ID');
  const clientId = str('AZURE_CLIENT_ID');
  const secret = str('AZURE_CLIENT_SECRET');
  const certPath = str('AZURE_CLIENT_CERTIFICATE_PATH');
  const tokenFile = str('AZURE_FEDERATED_TOKEN_FILE');
  let credential: AppCredential | undefined;
  const given = [
    secret && 'AZURE_CLIENT_SECRET',
    certPath && 'AZURE_CLIENT_CERTIFICATE_PATH',
    tokenFile && 'AZURE_FEDERATED_TOKEN_FILE',
  ].filter(Boolean);
  if (secret) credential = { kind: 'secret', secret };
  else if (certPath)
    credential = { kind: 'certificate', path: certPath, password: str('AZURE_CLIENT_CERTIFICATE_PASSWORD') };
  else if (tokenFile) credential = { kind: 'federated', tokenFile };
  if (tenantId !== undefined && !/^[A-Za-z0-9.-]{1,128}$/.test(tenantId)) {
    issues.push('AZURE_TENANT_ID: must be a tenant GUID or domain name');
  }
  if (
    clientId !== undefined &&
    !/^[0-9a-fA-F-]{36}$/.test(clientId) &&
    !/^[A-Za-z0-9._-]{1,128}$/.test(clientId)
  ) {
    issues.push('AZURE_CLIENT_ID: must be the application (client) id');
  }
  let tokenCacheKey: Buffer | undefined;
  const keyRaw = str('TOKEN_CACHE_KEY');
  if (keyRaw !== undefined) {
    const buf = Buffer.from(keyRaw, 'base64');
    if (buf.length !== 32 || buf.toString('base64').replace(/=+$/, '') !== keyRaw.trim().replace(/=+$/, '')) {
      issues.push('TOKEN_CACHE_KEY: must be 32 random bytes, base64-encoded (openssl rand -base64 32)');
    } else tokenCacheKey = buf;
  }
  if (opts.needAuth) {
    if (!tenantId) issues.push('AZURE_TENANT_ID: required');
    if (!clientId) issues.push('AZURE_CLIENT_ID: required');
    if (mode === 'app' && given.length === 0) {
      issues.push(
        'AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE: one is required in app mode',
      );
    }
    if (mode === 'delegated' && !keyRaw) issues.push('TOKEN_CACHE_KEY: required when AUTH_MODE=delegated');
  }
  if (mode === 'app' && given.length > 1)
    issues.push(`${given.join(', ')}: set only one credential in app mode`);

  // Worker
  const worker: Config['worker'] = {
    concurrency: int('WORKER_CONCURRENCY', 10, 1, 1000),
    attempts: int('JOB_ATTEMPTS', 6, 1, 100),
    inCallRetries: int('RETRY_IN_CALL', 2, 0, 10),
    backoffBaseMs: dur('RETRY_BASE', '1s'),
    backoffCapMs: dur('RETRY_CAP', '5m'),
    throttleWaitCap: int('THROTTLE_WAIT_CAP', 50, 1, 10_000),
    forbiddenThreshold: int('CIRCUIT_FORBIDDEN_THRESHOLD', 5, 1, 10_000),
    forbiddenWindowMs: dur('CIRCUIT_FORBIDDEN_WINDOW', '60s'),
    shutdownTimeoutMs: dur('SHUTDOWN_TIMEOUT', '60s'),
    dryRun: bool('DRY_RUN', false),
    stalledIntervalMs: dur('WORKER_STALLED_INTERVAL', '30s'),
    lockDurationMs: dur('WORKER_LOCK_DURATION', '30s'),
  };
  if (worker.stalledIntervalMs < 100) issues.push('WORKER_STALLED_INTERVAL: must be at least 100ms');
  if (worker.lockDurationMs < 1000) issues.push('WORKER_LOCK_DURATION: must be at least 1s');
  const timeoutMs = dur('GRAPH_TIMEOUT', '30s');
  const headroomRaw = str('GRAPH_RATE_HEADROOM', '0.97') as string;
  let rateHeadroom = Number(headroomRaw);
  if (!/^\s*(0?\.\d+|1(\.0*)?)\s*$/.test(headroomRaw) || rateHeadroom < 0.5 || rateHeadroom > 1) {
    issues.push(`GRAPH_RATE_HEADROOM: must be a number from 0.5 to 1 (got "${headroomRaw}")`);
    rateHeadroom = 0.97;
  }
  if (timeoutMs < 100) issues.push('GRAPH_TIMEOUT: must be at least 100ms');

  // API
  const apiAuthRaw = str('API_AUTH', 'enabled') as string;
  if (apiAuthRaw !== 'enabled' && apiAuthRaw !== 'disabled') {
    issues.push(`API_AUTH: must be enabled or disabled (got "${apiAuthRaw}")`);
  }
  const keys: ApiKeyEntry[] = [];
  const keysEnv = str('API_KEYS');
  const keysFile = str('API_KEYS_FILE');
  if (keysEnv) keys.push(...parseApiKeys(keysEnv, 'API_KEYS', issues));
  if (keysFile) {
    try {
      keys.push(...parseApiKeys(readFileSync(keysFile, 'utf8'), 'API_KEYS_FILE', issues));
    } catch (err) {
      issues.push(
        `API_KEYS_FILE: cannot read ${keysFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  const authDisabled = apiAuthRaw === 'disabled';
  if (opts.needApi && keys.length === 0 && !authDisabled) {
    issues.push(
      'API_KEYS or API_KEYS_FILE: at least one key is required (or set API_AUTH=disabled explicitly)',
    );
  }

  const config: Config = {
    redis: { url: redisUrl, clusterNodes, prefix },
    graph: {
      baseUrl: graphBaseUrl,
      timeoutMs,
      rateLimit: rate ?? { limit: 200, windowMs: 20_000 },
      rateHeadroom,
    },
    auth: {
      mode: mode === 'delegated' ? 'delegated' : 'app',
      authorityHost,
      tenantId,
      clientId,
      credential,
      tokenCacheKey,
    },
    worker,
    api: {
      port: int('API_PORT', 8080, 0, 65535),
      host: str('API_HOST', '0.0.0.0') as string,
      keys,
      authDisabled,
      rateLimitPerMinute: int('API_RATE_LIMIT', 600, 1, 1_000_000),
      bodyLimitBytes: int('API_BODY_LIMIT', 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    },
    guard: {
      threshold: int('GUARD_THRESHOLD', 50, 0, 1_000_000),
      twoPerson: bool('GUARD_TWO_PERSON', false),
      ttlMs: dur('GUARD_TTL', '72h'),
    },
    retention: {
      auditMaxLen: int('AUDIT_MAX_LEN', 1_000_000, 1000, 100_000_000),
      historyMaxLen: int('HISTORY_MAX_LEN', 200, 10, 10_000),
      historyTtlMs: dur('HISTORY_TTL', '90d'),
      completedAgeMs: dur('RETAIN_COMPLETED', '30d'),
      completedCount: int('RETAIN_COMPLETED_COUNT', 200_000, 100, 10_000_000),
      failedAgeMs: dur('RETAIN_FAILED', '90d'),
    },
    logLevel: str('LOG_LEVEL', 'info') as string,
  };
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    issues.push(
      `LOG_LEVEL: must be fatal, error, warn, info, debug, trace or silent (got "${config.logLevel}")`,
    );
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

/** Hides a password in a Redis URL so it can be logged. */
export function redact(redisUrl: string): string {
  return redisUrl.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@');
}
