// One outbound POST for a webhook notification (the Lifecycle Workflows resume is a Graph call: graph/call.ts), with a hard timeout covering connect, headers and body.
// fetch goes through the process's global dispatcher, so HTTPS_PROXY / NO_PROXY apply as for every
// other outbound call (src/net/proxy.ts installs it at start-up). Redirects are not followed: a
// signed event or a bearer token must go only where it was configured to go.
import { parseRetryAfter } from '../graph/retry-after.js';
import { readCapped } from '../net/read-capped.js';
import { DeliveryError } from './errors.js';

export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;
const MAX_BODY = 16 * 1024;

export interface PostResult {
  status: number;
  /** The first bytes of the answer (for the resume call's error code); never logged whole. */
  body: string;
  retryAfterMs?: number;
  requestId?: string;
}

export async function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number = DEFAULT_NOTIFY_TIMEOUT_MS,
): Promise<PostResult> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: controller.signal,
        redirect: 'manual',
      });
    } catch (err) {
      if (timedOut)
        throw new DeliveryError(`no answer within ${timeoutMs} ms`, null, false, undefined, 'timeout');
      const cause = (err as { cause?: { code?: string } })?.cause?.code;
      throw new DeliveryError(`connection failed${cause ? ` (${cause})` : ''}`, null, false);
    }
    let text = '';
    try {
      ({ text } = await readCapped(res.body, MAX_BODY));
    } catch {
      // The status is what counts; a body cut short by the timeout changes nothing.
    }
    return {
      status: res.status,
      body: text,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      requestId: res.headers.get('request-id') ?? undefined,
    };
  } finally {
    clearTimeout(timer);
  }
}
