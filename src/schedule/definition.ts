// A schedule: a named cron (with its time zone) and where to find the leavers at each tick.
// The definition travels in the job scheduler's template data, so every tick's job carries it.
import { isAbsolute } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { isLoopbackHost } from '../config/load.js';
import { isValidTimeZone } from '../intake/timezone.js';
import { InvalidScheduleError } from './errors.js';

export type SweepSource =
  /** A CSV file readable by the worker process (same format as `offboard import`). */
  | { type: 'csv'; path: string }
  /** A JSON feed: `[{user, effectiveAt?, reason?}]` or `{leavers: […]}`; optional bearer token. */
  | { type: 'http'; url: string; tokenEnv?: string };

export interface ScheduleDef {
  name: string;
  /** Cron pattern, 5 fields or 6 with seconds first ("0 2 * * *", "* * * * * *"). */
  cron: string;
  /** IANA zone of the cron and of leave dates without an offset. Default UTC. */
  tz: string;
  source: SweepSource;
  /** Jobs from this schedule record outcome `dry_run` instead of calling Graph. */
  dryRun?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export function isScheduleName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Returns a clean copy of the definition or throws InvalidScheduleError naming every problem. */
export function validateSchedule(input: unknown): ScheduleDef {
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
    if (typeof src.path !== 'string' || !isAbsolute(src.path) || src.path.length > 1024) {
      issues.push('source.path: an absolute path to a CSV file');
    } else source = { type: 'csv', path: src.path };
  } else if (src.type === 'http') {
    const problem = feedUrlProblem(src.url);
    if (problem) issues.push(`source.url: ${problem}`);
    if (src.tokenEnv !== undefined && (typeof src.tokenEnv !== 'string' || !ENV_NAME.test(src.tokenEnv))) {
      issues.push('source.tokenEnv: the name of an environment variable (A-Z 0-9 _)');
    }
    if (!problem) {
      source = { type: 'http', url: String(src.url) };
      if (typeof src.tokenEnv === 'string') source.tokenEnv = src.tokenEnv;
    }
  } else {
    issues.push('source: a CSV file path or an http(s) URL');
  }
  if (o.dryRun !== undefined && typeof o.dryRun !== 'boolean') issues.push('dryRun: true or false');
  if (issues.length > 0 || !source) throw new InvalidScheduleError(`invalid schedule: ${issues.join('; ')}`);
  return { name, cron, tz, source, ...(o.dryRun === true ? { dryRun: true } : {}) };
}

/** https only, except loopback hosts (tests, a sidecar); no credentials in the URL. */
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
  return null;
}
