// The environment as one zod schema: every variable with its format, bounds and documented default,
// then the rules that tie variables together. Every problem is collected (a bad value never hides
// another one); load.ts turns the issues into one ConfigError and the values into Config.
// A new variable: one line in `envFields` (its kind and documented default), one in load.ts's toConfig.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type ApiKeyEntry, parseApiKeys } from './api-keys.js';
import {
  absolutePath,
  bool,
  duration,
  fraction,
  httpsUrl,
  isLoopbackHost,
  matching,
  oneOf,
  parsed,
  rate,
  urlList,
  wholeNumber,
} from './fields.js';
import { cidrList, hostList } from './net-fields.js';
import { clusterNodesOf, isClusterUrl, parseNodeList, type RedisNode, redact } from './redis-url.js';

export interface LoadOptions {
  /** Require the Azure app registration settings (worker, login). */
  needAuth?: boolean;
  /** Require API keys unless API_AUTH=disabled (api). */
  needApi?: boolean;
}

const NODE_LIST = 'expected host:port[,host:port…] (IPv6 in brackets: [::1]:6379)';

const redisUrl = z.string().transform((raw, ctx): { url: string; clusterNodes?: RedisNode[] } => {
  if (isClusterUrl(raw)) {
    const clusterNodes = clusterNodesOf(raw);
    if (clusterNodes) return { url: raw, clusterNodes };
    ctx.addIssue({ code: 'custom', message: NODE_LIST });
    return z.NEVER;
  }
  try {
    const u = new URL(raw);
    if (u.protocol === 'redis:' || u.protocol === 'rediss:') return { url: raw };
  } catch {
    // reported below
  }
  ctx.addIssue({
    code: 'custom',
    message: `must be redis://, rediss:// or redis+cluster:// (got "${redact(raw)}")`,
  });
  return z.NEVER;
});

/** `name:role:sha256hex` entries; each bad entry is its own issue ("API_KEYS entry 2: …"). */
const apiKeys = (source: 'API_KEYS' | 'API_KEYS_FILE') =>
  z.string().transform((raw, ctx): ApiKeyEntry[] => {
    let text = raw;
    if (source === 'API_KEYS_FILE') {
      try {
        text = readFileSync(raw, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        ctx.addIssue({ code: 'custom', message: `cannot read ${raw} (${code})` });
        return z.NEVER;
      }
    }
    const problems: string[] = [];
    const keys = parseApiKeys(text, source, problems);
    for (const p of problems) ctx.addIssue({ code: 'custom', message: p, params: { whole: true } });
    return keys;
  });

/** A 32-byte AES-256 key, base64-encoded; never echoed. */
const aesKey = () =>
  parsed(
    (raw) => {
      const buf = Buffer.from(raw, 'base64');
      const canonical = buf.toString('base64').replace(/=+$/, '') === raw.trim().replace(/=+$/, '');
      return buf.length === 32 && canonical ? buf : null;
    },
    'must be 32 random bytes, base64-encoded (openssl rand -base64 32)',
    { secret: true },
  );

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every variable, its kind and its default (`prefault` values are parsed like the environment's). */
export const envFields = z.object({
  // Redis
  REDIS_URL: redisUrl.prefault('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: parsed(parseNodeList, NODE_LIST).optional(),
  QUEUE_PREFIX: matching(/^[{}A-Za-z0-9._-]{1,64}$/, '1-64 characters of A-Z a-z 0-9 . _ - { }').prefault(
    'offboard',
  ),

  // Graph
  GRAPH_BASE_URL: httpsUrl().prefault('https://graph.microsoft.com/v1.0'),
  GRAPH_RATE_LIMIT: rate('200/20s').prefault('200/20s'),
  GRAPH_RATE_HEADROOM: fraction(0.5).prefault('0.97'),
  GRAPH_TIMEOUT: duration([100, '100ms']).prefault('30s'),
  GRAPH_READ_RATE_LIMIT: rate('1000/20s').prefault('1000/20s'),
  // Graph's cap on one app across all tenants (130,000 per 10 s); paced only with a TENANTS_FILE.
  GRAPH_GLOBAL_RATE_LIMIT: rate('130000/10s').prefault('130000/10s'),
  // Customer tenants (src/tenants/load.ts, read by load.ts): absent = the single AZURE_TENANT_ID.
  TENANTS_FILE: z.string().optional(),

  // Evidence: device inventory before the action, verification after it
  EVIDENCE: oneOf(['on', 'off']).prefault('on'),
  VERIFY_AFTER: duration([1000, '1s']).prefault('15m'),
  VERIFY_WINDOW: duration([1000, '1s']).prefault('72h'),
  RETIRE_WHEN_NO_DEVICES: bool().prefault('false'),
  EVIDENCE_RETENTION: duration([60_000, '1m']).prefault('400d'),

  // Outcome webhooks
  WEBHOOK_URLS: urlList().optional(),
  WEBHOOK_SECRET: z.string().optional(),

  // Entra (auth)
  AUTH_MODE: oneOf(['app', 'delegated']).prefault('app'),
  AZURE_AUTHORITY_HOST: httpsUrl()
    .refine((u) => !u.startsWith('http:'), 'must be https (MSAL refuses plain http authorities)')
    .prefault('https://login.microsoftonline.com'),
  AZURE_TENANT_ID: matching(/^[A-Za-z0-9.-]{1,128}$/, 'must be a tenant GUID or domain name', {
    secret: true,
  }).optional(),
  AZURE_CLIENT_ID: matching(/^[A-Za-z0-9._-]{1,128}$/, 'must be the application (client) id', {
    secret: true,
  }).optional(),
  AZURE_CLIENT_SECRET: z.string().optional(),
  AZURE_CLIENT_CERTIFICATE_PATH: z.string().optional(),
  AZURE_CLIENT_CERTIFICATE_PASSWORD: z.string().optional(),
  AZURE_FEDERATED_TOKEN_FILE: z.string().optional(),
  TOKEN_CACHE_KEY: aesKey().optional(),

  // Worker
  WORKER_CONCURRENCY: wholeNumber(1, 1000).prefault('10'),
  JOB_ATTEMPTS: wholeNumber(1, 100).prefault('6'),
  RETRY_IN_CALL: wholeNumber(0, 10).prefault('2'),
  RETRY_BASE: duration().prefault('1s'),
  RETRY_CAP: duration().prefault('5m'),
  THROTTLE_WAIT_CAP: wholeNumber(1, 10_000).prefault('50'),
  CIRCUIT_FORBIDDEN_THRESHOLD: wholeNumber(1, 10_000).prefault('5'),
  CIRCUIT_FORBIDDEN_WINDOW: duration().prefault('60s'),
  CIRCUIT_FORBIDDEN_SHARE: fraction().prefault('0.5'),
  PACE_FAILURE_SHARE: fraction().prefault('0.5'),
  PACE_FAILURE_WINDOW: duration().prefault('20s'),
  PACE_FAILURE_MIN_USERS: wholeNumber(1, 1_000_000).prefault('20'),
  SHUTDOWN_TIMEOUT: duration().prefault('60s'),
  DRY_RUN: bool().prefault('false'),
  WORKER_STALLED_INTERVAL: duration([100, '100ms']).prefault('30s'),
  WORKER_LOCK_DURATION: duration([1000, '1s']).prefault('30s'),

  // API
  API_PORT: wholeNumber(0, 65_535).prefault('8080'),
  API_HOST: z.string().prefault('0.0.0.0'),
  API_AUTH: oneOf(['enabled', 'disabled']).prefault('enabled'),
  API_KEYS: apiKeys('API_KEYS').optional(),
  API_KEYS_FILE: apiKeys('API_KEYS_FILE').optional(),
  API_RATE_LIMIT: wholeNumber(1, 1_000_000).prefault('600'),
  API_BODY_LIMIT: wholeNumber(1024, 64 * 1024 * 1024).prefault(String(4 * 1024 * 1024)),
  API_AUTH_FAILURE_LIMIT: rate('20/1m').prefault('20/1m'),
  API_PUBLIC_HOSTS: hostList().prefault(''),
  API_TRUSTED_PROXIES: cidrList().prefault(''),

  // Operator console (/console): session cookie encryption key and lifetime
  CONSOLE_SESSION_KEY: aesKey().optional(),
  CONSOLE_SESSION_TTL: duration([60_000, '1m']).prefault('8h'),

  // Schedules
  SCHEDULE_CSV_DIR: absolutePath().optional(),

  // Mass-change guard
  GUARD_THRESHOLD: wholeNumber(0, 1_000_000).prefault('50'),
  GUARD_TWO_PERSON: bool().prefault('false'),
  GUARD_TTL: duration().prefault('72h'),
  GUARD_WINDOW: duration().prefault('1h'),
  GUARD_MAX_HELD_BATCHES_PER_KEY: wholeNumber(1, 10_000).prefault('5'),
  GUARD_MAX_HELD_ITEMS_PER_KEY: wholeNumber(1, 10_000_000).prefault('20000'),
  GUARD_MAX_HELD_ITEMS: wholeNumber(1, 100_000_000).prefault('100000'),

  // Retention
  AUDIT_MAX_LEN: wholeNumber(1000, 100_000_000).prefault('1000000'),
  HISTORY_MAX_LEN: wholeNumber(10, 10_000).prefault('200'),
  HISTORY_TTL: duration().prefault('90d'),
  RETAIN_COMPLETED: duration().prefault('30d'),
  RETAIN_COMPLETED_COUNT: wholeNumber(100, 10_000_000).prefault('200000'),
  RETAIN_FAILED: duration().prefault('90d'),

  LOG_LEVEL: oneOf(LOG_LEVELS).prefault('info'),
});

export type EnvValues = z.output<typeof envFields>;

const CREDENTIALS = [
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_FEDERATED_TOKEN_FILE',
] as const;

/** The schema with the rules across variables; `opts` says what the starting command needs. */
export function envSchema(opts: LoadOptions = {}) {
  return envFields.superRefine(
    (env, ctx) => {
      // A variable that failed its own check is already reported: rules only read valid ones.
      const bad = new Set(ctx.issues.map((i) => i.path?.[0]));
      const ok = (name: keyof EnvValues) => !bad.has(name);
      const issue = (message: string, name?: keyof EnvValues) =>
        ctx.addIssue({ code: 'custom', message, ...(name ? { path: [name] } : {}) });

      const clustered =
        (ok('REDIS_URL') && !!env.REDIS_URL.clusterNodes) ||
        (ok('REDIS_CLUSTER_NODES') && !!env.REDIS_CLUSTER_NODES);
      if (clustered && ok('QUEUE_PREFIX') && !/^\{[^{}]+\}$/.test(env.QUEUE_PREFIX)) {
        issue('on Redis Cluster it must be a hash tag such as {offboard}', 'QUEUE_PREFIX');
      }

      const mode = ok('AUTH_MODE') ? env.AUTH_MODE : undefined;
      const given = CREDENTIALS.filter((name) => env[name] !== undefined);
      if (mode === 'app' && given.length > 1)
        issue(`${given.join(', ')}: set only one credential in app mode`);
      // With a tenants file each tenant names its id (and maybe its own app): src/tenants/load.ts checks.
      const single = env.TENANTS_FILE === undefined;
      if (opts.needAuth && single) {
        if (env.AZURE_TENANT_ID === undefined && ok('AZURE_TENANT_ID')) issue('required', 'AZURE_TENANT_ID');
        if (env.AZURE_CLIENT_ID === undefined && ok('AZURE_CLIENT_ID')) issue('required', 'AZURE_CLIENT_ID');
        if (mode === 'app' && given.length === 0)
          issue(
            `${CREDENTIALS.slice(0, -1).join(', ')} or ${CREDENTIALS.at(-1)}: one is required in app mode`,
          );
        if (mode === 'delegated' && env.TOKEN_CACHE_KEY === undefined && ok('TOKEN_CACHE_KEY')) {
          issue('required when AUTH_MODE=delegated', 'TOKEN_CACHE_KEY');
        }
      }

      if (ok('VERIFY_AFTER') && ok('VERIFY_WINDOW') && env.VERIFY_AFTER > env.VERIFY_WINDOW) {
        issue('must not be longer than VERIFY_WINDOW', 'VERIFY_AFTER');
      }
      if (ok('WEBHOOK_URLS') && (env.WEBHOOK_URLS?.length ?? 0) > 0) {
        const secret = env.WEBHOOK_SECRET ?? '';
        if (secret.length < 16)
          issue(
            'required with WEBHOOK_URLS: at least 16 characters (openssl rand -hex 32)',
            'WEBHOOK_SECRET',
          );
        // whsec_ is the Standard Webhooks form: the rest must be base64 of a key receivers can decode.
        else if (secret.startsWith('whsec_') && !isWhsecKey(secret.slice(6)))
          issue(
            'whsec_ secrets must be base64 of at least 16 bytes (whsec_ + openssl rand -base64 32)',
            'WEBHOOK_SECRET',
          );
      }

      const authDisabled = ok('API_AUTH') && env.API_AUTH === 'disabled';
      // Disabled auth means an anonymous operator: only for a process nobody else can reach.
      if (opts.needApi && authDisabled && !isLoopbackHost(env.API_HOST.replace(/^\[(.*)\]$/, '$1'))) {
        issue(
          `API_AUTH=disabled: only allowed when API_HOST is a loopback address (127.0.0.1, ::1, localhost) (got "${env.API_HOST}")`,
        );
      }
      const keyCount =
        (ok('API_KEYS') ? (env.API_KEYS?.length ?? 0) : 1) +
        (ok('API_KEYS_FILE') ? (env.API_KEYS_FILE?.length ?? 0) : 1);
      if (opts.needApi && ok('API_AUTH') && !authDisabled && keyCount === 0) {
        issue(
          'API_KEYS or API_KEYS_FILE: at least one key is required (or set API_AUTH=disabled explicitly)',
        );
      }
    },
    { when: () => true },
  );
}

/**
 * One line per issue, naming the variable: "WORKER_CONCURRENCY: must be …". Issues that name their
 * variables themselves (several at once, or "API_KEYS entry 2") have no path and read as they are.
 */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path[0];
  if (name === undefined || (issue.code === 'custom' && issue.params?.whole)) return issue.message;
  return `${String(name)}: ${issue.message}`;
}

/** Base64 (standard alphabet, padded) of at least 16 bytes: what src/notify/sign.ts decodes. */
function isWhsecKey(b64: string): boolean {
  return (
    /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64) &&
    Buffer.from(b64, 'base64').length >= 16
  );
}
