// The kinds of environment value, as zod schemas from the raw string to its typed value. Each
// message says what is valid and echoes what was given, except for secrets (`secret: true`).
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { isLoopbackHost } from '../net/loopback.js';
import { parseBool, parseDuration, parseRate, type RateLimit } from './parse.js';

/** A string turned into T by `parse`; null means invalid, and `expected` says what is valid. */
export function parsed<T>(
  parse: (raw: string) => T | null,
  expected: string,
  opts: { secret?: boolean } = {},
) {
  return z.string().transform((raw, ctx): T => {
    const value = parse(raw);
    if (value === null) {
      ctx.addIssue({ code: 'custom', message: opts.secret ? expected : `${expected} (got "${raw}")` });
      return z.NEVER;
    }
    return value;
  });
}

export const wholeNumber = (min: number, max: number) =>
  parsed((raw) => {
    const n = Number(raw);
    return /^\s*\d+\s*$/.test(raw) && n >= min && n <= max ? n : null;
  }, `must be a whole number from ${min} to ${max}`);

/** "500ms", "20s", "15m", "72h", "7d" → milliseconds, at least `min` (e.g. [100, '100ms']). */
export const duration = (min?: [ms: number, text: string]) => {
  const ms = parsed(parseDuration, 'must be a duration like 500ms, 20s, 15m, 72h, 7d');
  return min ? ms.pipe(z.number().min(min[0], `must be at least ${min[1]}`)) : ms;
};

/** A fraction in (0, 1] written as a decimal, e.g. 0.5; `from` raises the lower bound (inclusive). */
export const fraction = (from?: number) =>
  parsed(
    (raw) => {
      const n = Number(raw);
      if (!/^\s*(0?\.\d+|1(\.0*)?)\s*$/.test(raw)) return null;
      return (from === undefined ? n > 0 : n >= from) && n <= 1 ? n : null;
    },
    from === undefined
      ? 'must be a number above 0 and at most 1, such as 0.5'
      : `must be a number from ${from} to 1`,
  );

export const bool = () => parsed(parseBool, 'must be true or false');

/** "200/20s" → 200 per 20 000 ms; `example` shows a sensible value for this variable. */
export const rate = (example: string) =>
  parsed<RateLimit>(parseRate, `expected N/duration such as ${example}`);

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  parsed(
    (raw) => ((values as readonly string[]).includes(raw) ? (raw as T[number]) : null),
    `must be ${values.length === 2 ? values.join(' or ') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`}`,
  );

export { isLoopbackHost };

/** An https URL (http only for loopback hosts), without trailing slashes. */
export const httpsUrl = () =>
  z.string().transform((raw, ctx) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      ctx.addIssue({ code: 'custom', message: `not a valid URL (got "${raw}")` });
      return z.NEVER;
    }
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an https URL (http only for loopback hosts) (got "${raw}")`,
      });
      return z.NEVER;
    }
    return raw.replace(/\/+$/, '');
  });

export const absolutePath = () =>
  parsed((raw) => (isAbsolute(raw) ? raw : null), 'must be an absolute directory path');

/**
 * Comma-separated https URLs (http only for loopback hosts) for outbound deliveries. A URL may carry
 * a token in its query, so a bad entry is named by its position, never echoed.
 */
export const urlList = () =>
  z.string().transform((raw, ctx): string[] => {
    const urls: string[] = [];
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .forEach((entry, i) => {
        let u: URL | undefined;
        try {
          u = new URL(entry);
        } catch {
          // reported below
        }
        const ok =
          u !== undefined &&
          (u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname))) &&
          u.username === '' &&
          u.password === '';
        if (!ok || !u) {
          ctx.addIssue({
            code: 'custom',
            message: `entry ${i + 1} must be an https URL without credentials in it (http only for loopback hosts)`,
          });
          return;
        }
        urls.push(u.toString());
      });
    return urls;
  });

/** A string matching `pattern`; the message echoes the value unless it is a secret. */
export const matching = (pattern: RegExp, expected: string, opts: { secret?: boolean } = {}) =>
  parsed((raw) => (pattern.test(raw) ? raw : null), expected, opts);
