// A schedule: a named cron (with its time zone) and where to find the leavers at each tick.
// The definition travels in the job scheduler's template data, so every tick's job carries it.
import { isAbsolute, normalize, sep } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { isLoopbackHost } from '../config/load.js';
import type { DevicePolicy } from '../device-policy/types.js';
import { DEVICE_POLICY_NAME } from '../values/device-policy-name.js';
import { isTenantName } from '../values/tenant.js';
import { hasControlChars } from '../values/text.js';
import { isValidTimeZone } from '../values/timezone.js';
import { InvalidScheduleError } from './errors.js';

export type SweepSource =
  /** A CSV file inside SCHEDULE_CSV_DIR on the worker (same format as `offboard import`). */
  | { type: 'csv'; path: string }
  /**
   * A JSON feed: `[{user, effectiveAt?, reason?}]` or `{leavers: […]}`; optional bearer token from a
   * variable named OFFBOARD_FEED_TOKEN_* (never any other secret of the worker).
   */
  | { type: 'http'; url: string; tokenEnv?: string }
  /**
   * Entra ID users whose employeeLeaveDateTime falls in [last successful read, now + lookahead],
   * read from Graph with the worker's own credentials; each leaver's job is due at the leave date
   * plus `offsetMs`. With `reconcile`, pending jobs of this schedule follow moved and cleared dates.
   */
  | { type: 'entra'; lookaheadMs: number; offsetMs?: number; reconcile: boolean };

/** How far ahead an entra schedule may look, and how far a job may be put off the leave date. */
export const ENTRA_LOOKAHEAD_MS = { min: 3_600_000, max: 90 * 86_400_000 } as const;
export const ENTRA_OFFSET_MAX_MS = 7 * 86_400_000;

/** "14d", "2h", "-2h", "+30m" (ms, s, m, h, d). Null when invalid. */
export function parseSignedDuration(text: string): number | null {
  const m = /^\s*([+-]?)\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[3] as 'ms'];
  const value = Math.round(Number(m[2]) * unit);
  return Number.isFinite(value) ? (m[1] === '-' ? -value : value) : null;
}

/** 1209600000 → "14d", 7200000 → "2h", -5400000 → "-90m": the largest whole unit. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (abs >= size && abs % size === 0) return `${sign}${abs / size}${unit}`;
  }
  return `${sign}${abs}ms`;
}

function entraProblems(src: Record<string, unknown>): string[] {
  const out: string[] = [];
  const { lookaheadMs, offsetMs, reconcile } = src;
  if (
    typeof lookaheadMs !== 'number' ||
    !Number.isInteger(lookaheadMs) ||
    lookaheadMs < ENTRA_LOOKAHEAD_MS.min ||
    lookaheadMs > ENTRA_LOOKAHEAD_MS.max
  ) {
    out.push('source.lookahead: between 1h and 90d');
  }
  if (
    offsetMs !== undefined &&
    (typeof offsetMs !== 'number' || !Number.isInteger(offsetMs) || Math.abs(offsetMs) > ENTRA_OFFSET_MAX_MS)
  ) {
    out.push('source.offset: between -7d and 7d');
  }
  if (typeof reconcile !== 'boolean') out.push('source.reconcile: true or false');
  for (const key of Object.keys(src)) {
    if (!['type', 'lookaheadMs', 'offsetMs', 'reconcile'].includes(key))
      out.push(`source.${key}: unknown field`);
  }
  return out;
}

export interface ScheduleDef {
  name: string;
  /** Cron pattern, 5 fields or 6 with seconds first ("0 2 * * *", "* * * * * *"). */
  cron: string;
  /** IANA zone of the cron and of leave dates without an offset. Default UTC. */
  tz: string;
  source: SweepSource;
  /** Jobs from this schedule record outcome `dry_run` instead of calling Graph. */
  dryRun?: boolean;
  /**
   * Device policy profile (DEVICE_POLICY_FILE) for this schedule's leavers; absent = the policy's
   * default. Checked against the policy when the schedule is added and at every tick.
   */
  devicePolicy?: string;
  /**
   * TENANTS_FILE: the tenant its leavers belong to (required with several tenants); an `entra`
   * source reads that tenant's directory.
   */
  tenant?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export function isScheduleName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/**
 * The only environment variables a schedule may name: a schedule is data anyone with Redis write
 * access or the operator CLI can change, so it must not be able to pick AZURE_CLIENT_SECRET,
 * TOKEN_CACHE_KEY or REDIS_URL and have a worker send it to a host of its choosing.
 */
export const FEED_TOKEN_PREFIX = 'OFFBOARD_FEED_TOKEN_';
const FEED_TOKEN_ENV = /^OFFBOARD_FEED_TOKEN_[A-Z0-9_]{1,64}$/;
export function isFeedTokenEnv(name: unknown): name is string {
  return typeof name === 'string' && FEED_TOKEN_ENV.test(name);
}

export interface ValidateScheduleOptions {
  /**
   * SCHEDULE_CSV_DIR of this process. CSV sources must lie inside it (checked here by the path's
   * text; the worker checks the real path again before reading). Unset: CSV sources are refused.
   */
  csvDir?: string;
  /** The loaded device policy (DEVICE_POLICY_FILE), to check a schedule's `devicePolicy` against. */
  devicePolicy?: DevicePolicy;
}

/** Why a CSV sweep path is not acceptable (by its text), or null. */
export function csvPathProblem(path: unknown, csvDir: string | undefined): string | null {
  if (typeof path !== 'string' || !isAbsolute(path) || path.length > 1024) {
    return 'an absolute path to a CSV file';
  }
  if (hasControlChars(path)) return 'must not contain control characters';
  if (path.split(/[\\/]/).includes('..') || normalize(path) !== path) {
    return 'must be a plain absolute path (no "..", "." or repeated separators)';
  }
  if (!csvDir) {
    return 'CSV sweep sources are disabled: set SCHEDULE_CSV_DIR (on the workers and where schedules are added) to the directory sweep files live in';
  }
  const dir = normalize(csvDir).replace(/[\\/]+$/, '');
  if (!path.startsWith(dir + sep)) return `must be inside SCHEDULE_CSV_DIR (${dir})`;
  return null;
}

/** What a schedule is checked against in this process: SCHEDULE_CSV_DIR and the device policy. */
export function scheduleChecks(config: {
  schedule: { csvDir?: string | undefined };
  devicePolicy?: DevicePolicy | undefined;
}): ValidateScheduleOptions {
  return {
    ...(config.schedule.csvDir ? { csvDir: config.schedule.csvDir } : {}),
    ...(config.devicePolicy ? { devicePolicy: config.devicePolicy } : {}),
  };
}

/** Returns a clean copy of the definition or throws InvalidScheduleError naming every problem. */
export function validateSchedule(input: unknown, opts: ValidateScheduleOptions = {}): ScheduleDef {
  const issues: string[] = [];
  const o = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const name = typeof o.name === 'string' ? o.name : '';
  if (!NAME.test(name))
    issues.push('name: 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit');
  const tz = o.tz === undefined ? 'UTC' : String(o.tz);
  if (!isValidTimeZone(tz)) issues.push(`tz: unknown time zone "${tz.slice(0, 64)}"`);
  const cron = typeof o.cron === 'string' ? o.cron.trim() : '';
  try {
    if (!cron) throw new Error('missing');
    CronExpressionParser.parse(cron, { tz: isValidTimeZone(tz) ? tz : 'UTC' });
  } catch (err) {
    issues.push(`cron: not a valid cron pattern "${cron.slice(0, 64)}" (${(err as Error).message})`);
  }
  const src = (typeof o.source === 'object' && o.source !== null ? o.source : {}) as Record<string, unknown>;
  let source: SweepSource | undefined;
  if (src.type === 'csv') {
    const problem = csvPathProblem(src.path, opts.csvDir);
    if (problem) issues.push(`source.path: ${problem}`);
    else source = { type: 'csv', path: String(src.path) };
  } else if (src.type === 'http') {
    const problem = feedUrlProblem(src.url);
    if (problem) issues.push(`source.url: ${problem}`);
    const badToken = src.tokenEnv !== undefined && !isFeedTokenEnv(src.tokenEnv);
    if (badToken) {
      issues.push(
        `source.tokenEnv: must name a variable ${FEED_TOKEN_PREFIX}<NAME> (A-Z 0-9 _); feed tokens come from no other variable`,
      );
    }
    if (!problem && !badToken) {
      source = { type: 'http', url: String(src.url) };
      if (typeof src.tokenEnv === 'string') source.tokenEnv = src.tokenEnv;
    }
  } else if (src.type === 'entra') {
    const problems = entraProblems(src);
    issues.push(...problems);
    if (problems.length === 0) {
      source = {
        type: 'entra',
        lookaheadMs: src.lookaheadMs as number,
        ...(src.offsetMs ? { offsetMs: src.offsetMs as number } : {}),
        reconcile: src.reconcile as boolean,
      };
    }
  } else {
    issues.push('source: a CSV file path, an http(s) URL or entra');
  }
  if (o.dryRun !== undefined && typeof o.dryRun !== 'boolean') issues.push('dryRun: true or false');
  const profile = devicePolicyProblem(o.devicePolicy, opts.devicePolicy);
  if (profile) issues.push(`devicePolicy: ${profile}`);
  if (o.tenant !== undefined && !isTenantName(o.tenant))
    issues.push('tenant: 1-63 of a-z 0-9 - (a TENANTS_FILE name)');
  if (issues.length > 0 || !source) throw new InvalidScheduleError(`invalid schedule: ${issues.join('; ')}`);
  return {
    name,
    cron,
    tz,
    source,
    ...(o.dryRun === true ? { dryRun: true } : {}),
    ...(typeof o.devicePolicy === 'string' ? { devicePolicy: o.devicePolicy } : {}),
    ...(typeof o.tenant === 'string' ? { tenant: o.tenant } : {}),
  };
}

/** Why a schedule's `devicePolicy` cannot be used (no policy file, not a profile), or null. */
function devicePolicyProblem(value: unknown, policy: DevicePolicy | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !DEVICE_POLICY_NAME.test(value)) return 'a profile name';
  if (!policy) return 'no device policy configured (DEVICE_POLICY_FILE)';
  if (!Object.hasOwn(policy.profiles, value)) {
    return `"${value}" is not a profile of the device policy; known: ${Object.keys(policy.profiles).join(', ')}`;
  }
  return null;
}

/**
 * Query parameter names that look like a credential (any case, also inside a longer name such as
 * `api_key`, `access_token`, `X-Amz-Signature`). A feed URL is shown to viewers and kept with the
 * schedule, so a secret in it would leak; it belongs in an OFFBOARD_FEED_TOKEN_* variable instead.
 */
const CREDENTIAL_PARAM = /key|token|secret|sig|password|auth|code/i;

/** The first query parameter name of a feed URL that looks like a credential, or null. */
export function credentialQueryParam(url: URL): string | null {
  for (const name of url.searchParams.keys()) if (CREDENTIAL_PARAM.test(name)) return name;
  return null;
}

/**
 * How a feed URL is shown everywhere (console, CLI, API, audit, logs): origin and path only. The
 * query string is never shown, whatever it holds; the stored definition keeps the URL as given.
 */
export function feedDisplayUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'URL';
  }
}

/** A source as it may be shown: an http feed's URL reduced to origin and path. */
export function displaySource<S extends SweepSource | undefined>(source: S): S {
  if (source?.type !== 'http') return source;
  return { ...source, url: feedDisplayUrl(source.url) };
}

/**
 * https only, except loopback hosts (tests, a sidecar); no credentials in the URL, neither as user
 * info nor as a query parameter named like one. Workers apply it again at every tick, so a schedule
 * stored before this rule stops (failing, with this message) rather than keep sending its secret.
 */
export function feedUrlProblem(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 2048) return 'must be an https URL';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'not a valid URL';
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
    return 'must be https (http only for loopback hosts)';
  }
  if (u.username || u.password)
    return 'must not carry credentials; use a bearer token from an environment variable';
  const param = credentialQueryParam(u);
  if (param !== null) {
    return `query parameter "${param.replace(/[^\w.-]/g, '?').slice(0, 40)}" looks like a credential: put the secret in a variable ${FEED_TOKEN_PREFIX}<NAME> on the workers and name it with --token-env (sent as a bearer token, never shown)`;
  }
  return null;
}
