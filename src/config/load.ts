// The one place that reads the environment. The variables, their formats and documented defaults are
// one zod schema (schema.ts; the kinds of value in fields.ts, Redis URLs in redis-url.ts); this file
// maps the validated values onto the Config the rest of the code reads. Every problem is reported
// together, in one ConfigError (exit 2).
import type { ApiKeyEntry } from './api-keys.js';
import { ConfigError } from './errors.js';
import type { RateLimit } from './parse.js';
import { describeIssue, type EnvValues, envFields, envSchema, type LoadOptions } from './schema.js';

export { isLoopbackHost } from './fields.js';
export { redact } from './redis-url.js';
export type { LoadOptions } from './schema.js';

export type AppCredential =
  | { kind: 'secret'; secret: string }
  | { kind: 'certificate'; path: string; password?: string }
  | { kind: 'federated'; tokenFile: string };

import type { DevicePolicy } from '../device-policy/types.js';
import type { TenantConfig } from './tenant-config.js';
import { tenantsFromEnv } from './tenants-env.js';
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
    /** Read budget (inventory, verification, Entra queries), paced apart from writes. Default 1000 per 20 s. */
    readRateLimit: RateLimit;
    /** GRAPH_GLOBAL_RATE_LIMIT (default 130000/10s): one app across all tenants; paced only with tenants. */
    globalRateLimit: RateLimit;
  };
  /** Proof of retirement: device inventory before the action, verification after it. */
  evidence: {
    /** EVIDENCE=on (default): inventory and verify; off: no reads at all. */
    enabled: boolean;
    /** First verification read after the action (VERIFY_AFTER, default 15m). */
    verifyAfterMs: number;
    /** How long verification keeps checking (VERIFY_WINDOW, default 72h), counted from the action. */
    verifyWindowMs: number;
    /** Send the retire even when the inventory is empty (RETIRE_WHEN_NO_DEVICES, default false). */
    retireWhenNoDevices: boolean;
    /** How long evidence records are kept (EVIDENCE_RETENTION, default 400d). */
    retentionMs: number;
    /** EVIDENCE_KEY: 32-byte AES-256-GCM key for secrets kept with evidence (Activation Lock bypass codes). */
    key?: Buffer;
  };
  /** DEVICE_POLICY_FILE, loaded and validated; absent = one removeAllDevicesFromManagement per leaver. */
  devicePolicy?: DevicePolicy;
  /** TENANTS_FILE, loaded and validated; absent = the single AZURE_TENANT_ID. */
  tenants?: TenantConfig[];
  /** Outcome events (WEBHOOK_URLS, WEBHOOK_SECRET); no URLs = none sent. */
  webhooks: {
    urls: string[];
    secret?: string;
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
    /**
     * The 403 circuit opens when, inside CIRCUIT_FORBIDDEN_WINDOW (default 20 s), at least this many
     * distinct users got 403 (CIRCUIT_FORBIDDEN_THRESHOLD, default 5: the minimum sample) AND they are
     * at least `forbiddenShare` of the distinct users called (CIRCUIT_FORBIDDEN_SHARE, default 0.5).
     */
    forbiddenThreshold: number;
    forbiddenWindowMs: number;
    forbiddenShare: number;
    /**
     * 5xx, timeouts and connection errors slow the whole fleet only when systemic: at least
     * `failureShare` (PACE_FAILURE_SHARE, default 0.5) of the distinct users called inside
     * `failureWindowMs` (PACE_FAILURE_WINDOW, default 5s) had their latest call fail, with at least
     * `failureMinUsers` distinct users in that window (PACE_FAILURE_MIN_USERS, default 20).
     */
    failureShare: number;
    failureWindowMs: number;
    failureMinUsers: number;
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
    /**
     * Failed authentications allowed per client address (API_AUTH_FAILURE_LIMIT, default 20/1m), counted
     * in Redis so every replica shares the budget; past it the address gets 429 until the window ends.
     */
    authFailureLimit: RateLimit;
    /**
     * Host names the API answers to besides the loopback names (API_PUBLIC_HOSTS, default none):
     * lower case, no port, IPv6 in brackets. Any other Host is refused (DNS rebinding).
     */
    publicHosts: string[];
    /** Proxies (CIDRs) whose X-Forwarded-For names the client (API_TRUSTED_PROXIES, default none). */
    trustedProxies: string[];
  };
  console: {
    /** 32-byte key encrypting console session cookies (CONSOLE_SESSION_KEY); unset: random per process. */
    sessionKey?: Buffer;
    /** How long a console sign-in lasts (CONSOLE_SESSION_TTL, default 8h). */
    sessionTtlMs: number;
  };
  schedule: {
    /**
     * Directory that CSV sweep sources must live in (SCHEDULE_CSV_DIR). Unset: CSV sweep sources are
     * refused, so a schedule cannot make a worker read an arbitrary file.
     */
    csvDir?: string;
  };
  guard: {
    threshold: number;
    twoPerson: boolean;
    ttlMs: number;
    /** Held batches one key may have awaiting approval at once (GUARD_MAX_HELD_BATCHES_PER_KEY, default 5). */
    maxHeldBatchesPerKey: number;
    /** Items in held batches per key (GUARD_MAX_HELD_ITEMS_PER_KEY, default 20000). */
    maxHeldItemsPerKey: number;
    /** Items in held batches across all keys (GUARD_MAX_HELD_ITEMS, default 100000). */
    maxHeldItems: number;
    /**
     * Rolling window (GUARD_WINDOW, default 1h) in which the threshold also caps the distinct users
     * accepted without approval per key and in total, so splitting a batch does not get past the guard.
     */
    windowMs: number;
    /** Devices wiped or deleted within the window before the guard holds (GUARD_WIPE_THRESHOLD, default 10). */
    wipeThreshold?: number;
  };
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

type Env = Record<string, string | undefined>;

/** The variables the schema knows, without empty ones: an empty variable means "use the default". */
function known(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(envFields.shape)) {
    const value = env[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

/** Validates the whole environment at once; every problem goes into one ConfigError (exit 2). */
export function loadConfig(env: Env = process.env, opts: LoadOptions = {}): Config {
  const result = envSchema(opts).safeParse(known(env));
  const problems = result.success ? [] : result.error.issues.map(describeIssue);
  // TENANTS_FILE's problems are reported with the environment's (tenants-env.ts).
  const config = result.success ? toConfig(result.data) : undefined;
  const tenants = tenantsFromEnv(env, config, opts, problems);
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return tenants ? { ...config, tenants } : config;
}

function credential(e: EnvValues): AppCredential | undefined {
  if (e.AZURE_CLIENT_SECRET) return { kind: 'secret', secret: e.AZURE_CLIENT_SECRET };
  if (e.AZURE_CLIENT_CERTIFICATE_PATH) {
    return {
      kind: 'certificate',
      path: e.AZURE_CLIENT_CERTIFICATE_PATH,
      password: e.AZURE_CLIENT_CERTIFICATE_PASSWORD,
    };
  }
  if (e.AZURE_FEDERATED_TOKEN_FILE) return { kind: 'federated', tokenFile: e.AZURE_FEDERATED_TOKEN_FILE };
  return undefined;
}

function toConfig(e: EnvValues): Config {
  return {
    redis: {
      url: e.REDIS_URL.url,
      clusterNodes: e.REDIS_CLUSTER_NODES ?? e.REDIS_URL.clusterNodes,
      prefix: e.QUEUE_PREFIX,
    },
    graph: {
      baseUrl: e.GRAPH_BASE_URL,
      timeoutMs: e.GRAPH_TIMEOUT,
      rateLimit: e.GRAPH_RATE_LIMIT,
      rateHeadroom: e.GRAPH_RATE_HEADROOM,
      readRateLimit: e.GRAPH_READ_RATE_LIMIT,
      globalRateLimit: e.GRAPH_GLOBAL_RATE_LIMIT,
    },
    evidence: {
      enabled: e.EVIDENCE === 'on',
      verifyAfterMs: e.VERIFY_AFTER,
      verifyWindowMs: e.VERIFY_WINDOW,
      retireWhenNoDevices: e.RETIRE_WHEN_NO_DEVICES,
      retentionMs: e.EVIDENCE_RETENTION,
    },
    webhooks: { urls: e.WEBHOOK_URLS ?? [], secret: e.WEBHOOK_SECRET },
    auth: {
      mode: e.AUTH_MODE,
      authorityHost: e.AZURE_AUTHORITY_HOST,
      tenantId: e.AZURE_TENANT_ID,
      clientId: e.AZURE_CLIENT_ID,
      credential: credential(e),
      tokenCacheKey: e.TOKEN_CACHE_KEY,
    },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      attempts: e.JOB_ATTEMPTS,
      inCallRetries: e.RETRY_IN_CALL,
      backoffBaseMs: e.RETRY_BASE,
      backoffCapMs: e.RETRY_CAP,
      throttleWaitCap: e.THROTTLE_WAIT_CAP,
      forbiddenThreshold: e.CIRCUIT_FORBIDDEN_THRESHOLD,
      forbiddenWindowMs: e.CIRCUIT_FORBIDDEN_WINDOW,
      forbiddenShare: e.CIRCUIT_FORBIDDEN_SHARE,
      failureShare: e.PACE_FAILURE_SHARE,
      failureWindowMs: e.PACE_FAILURE_WINDOW,
      failureMinUsers: e.PACE_FAILURE_MIN_USERS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT,
      dryRun: e.DRY_RUN,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL,
      lockDurationMs: e.WORKER_LOCK_DURATION,
    },
    api: {
      port: e.API_PORT,
      host: e.API_HOST,
      keys: [...(e.API_KEYS ?? []), ...(e.API_KEYS_FILE ?? [])],
      authDisabled: e.API_AUTH === 'disabled',
      rateLimitPerMinute: e.API_RATE_LIMIT,
      bodyLimitBytes: e.API_BODY_LIMIT,
      authFailureLimit: e.API_AUTH_FAILURE_LIMIT,
      publicHosts: e.API_PUBLIC_HOSTS,
      trustedProxies: e.API_TRUSTED_PROXIES,
    },
    console: { sessionKey: e.CONSOLE_SESSION_KEY, sessionTtlMs: e.CONSOLE_SESSION_TTL },
    schedule: { csvDir: e.SCHEDULE_CSV_DIR },
    guard: {
      threshold: e.GUARD_THRESHOLD,
      twoPerson: e.GUARD_TWO_PERSON,
      ttlMs: e.GUARD_TTL,
      maxHeldBatchesPerKey: e.GUARD_MAX_HELD_BATCHES_PER_KEY,
      maxHeldItemsPerKey: e.GUARD_MAX_HELD_ITEMS_PER_KEY,
      maxHeldItems: e.GUARD_MAX_HELD_ITEMS,
      windowMs: e.GUARD_WINDOW,
    },
    retention: {
      auditMaxLen: e.AUDIT_MAX_LEN,
      historyMaxLen: e.HISTORY_MAX_LEN,
      historyTtlMs: e.HISTORY_TTL,
      completedAgeMs: e.RETAIN_COMPLETED,
      completedCount: e.RETAIN_COMPLETED_COUNT,
      failedAgeMs: e.RETAIN_FAILED,
    },
    logLevel: e.LOG_LEVEL,
  };
}
