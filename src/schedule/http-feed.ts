// Reads leavers from an HTTP(S) JSON feed (an HR system's export endpoint). The bearer token
// comes from the OFFBOARD_FEED_TOKEN_* variable the schedule names; it is sent, never stored or logged.
// Redirects are refused (a token must not follow a redirect to another host), the body is capped
// and the call times out.
import { readCapped } from '../net/read-capped.js';
import { FEED_TOKEN_PREFIX, feedDisplayUrl, feedUrlProblem, isFeedTokenEnv } from './definition.js';
import { SweepSourceError } from './errors.js';

export interface FeedOptions {
  /** Whole request including the body. Default 30 s. */
  timeoutMs?: number;
  /** Largest body accepted. Default 10 MiB. */
  maxBytes?: number;
  /** Where the token variable is looked up. Default process.env. */
  env?: Record<string, string | undefined>;
}

/** Only these fields of a feed item are used; HR exports often carry more (names, departments). */
const FIELDS = ['user', 'effectiveAt', 'reason', 'correlationId'] as const;

export async function fetchFeed(
  source: { url: string; tokenEnv?: string },
  opts: FeedOptions = {},
): Promise<unknown[]> {
  const problem = feedUrlProblem(source.url);
  if (problem) throw new SweepSourceError(`feed URL ${problem}`);
  const maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (source.tokenEnv !== undefined) {
    // Checked again at the point of use: nothing but a feed token variable is ever sent.
    if (!isFeedTokenEnv(source.tokenEnv)) {
      throw new SweepSourceError(`feed token variable must be named ${FEED_TOKEN_PREFIX}<NAME>`);
    }
    const token = (opts.env ?? process.env)[source.tokenEnv];
    if (!token) throw new SweepSourceError(`environment variable ${source.tokenEnv} (feed token) is not set`);
    headers.authorization = `Bearer ${token}`;
  }
  const where = feedDisplayUrl(source.url);
  let res: Response;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  try {
    res = await fetch(source.url, { headers, redirect: 'error', signal });
  } catch (err) {
    const why = signal.aborted
      ? 'timed out'
      : ((err as Error).cause as Error)?.message || (err as Error).message;
    throw new SweepSourceError(`feed ${where} could not be read: ${why}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new SweepSourceError(`feed ${where} answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new SweepSourceError(`feed ${where} is larger than ${maxBytes} bytes`);
  }
  let read: { text: string; cut: boolean };
  try {
    read = await readCapped(res.body, maxBytes);
  } catch (err) {
    const why = signal.aborted ? 'timed out' : (err as Error).message;
    throw new SweepSourceError(`feed ${where} could not be read: ${why}`);
  }
  if (read.cut) throw new SweepSourceError(`feed ${where} is larger than ${maxBytes} bytes`);
  const text = read.text;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SweepSourceError(`feed ${where} did not return JSON`);
  }
  const list = Array.isArray(body) ? body : (body as { leavers?: unknown } | null)?.leavers;
  if (!Array.isArray(list)) {
    throw new SweepSourceError(`feed ${where} must return a JSON array or an object with a "leavers" array`);
  }
  return list.map(pick);
}

function pick(item: unknown): unknown {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
  const o = item as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) if (o[f] !== undefined && o[f] !== null) out[f] = o[f];
  return out;
}
