// The one Graph call this product makes: POST …/users/{user}/removeAllDevicesFromManagement.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Dispatcher, request } from 'undici';
import type { GraphSuccess } from '../interfaces.js';
import { classifyResponse } from './classify.js';
import { GraphNetworkError, GraphTimeoutError } from './errors.js';
import { checkedBaseUrl, userActionUrl } from './url.js';

export interface RetireCallOptions {
  /** e.g. `https://graph.microsoft.com/v1.0`; https only, except loopback hosts. */
  baseUrl: string;
  /** Object id (GUID) or userPrincipalName, already normalised. */
  user: string;
  /** Bearer access token. Never logged. */
  token: string;
  /** Per-call budget covering connect, headers and body. */
  timeoutMs: number;
  /** Sent as `client-request-id` so support can correlate; default a random UUID. */
  clientRequestId?: string;
  /** Caller cancellation (e.g. worker shutdown). Its abort reason is rethrown as is. */
  signal?: AbortSignal;
}

/** Error bodies are small; anything beyond this is not worth holding in memory. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Performs the call once (no retry: callers own retry policy). Resolves on any 2xx; rejects with a
 * GraphError subclass for every HTTP failure, timeout or connection error, or with the caller's
 * abort reason when `signal` fired. Throws InsecureGraphUrlError before sending anything to a
 * non-https, non-loopback base URL.
 */
export async function removeAllDevicesFromManagement(opts: RetireCallOptions): Promise<GraphSuccess> {
  checkedBaseUrl(opts.baseUrl);
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new RangeError('timeoutMs must be a positive number');
  }
  const url = userActionUrl(opts.baseUrl, opts.user);
  const clientRequestId = opts.clientRequestId ?? randomUUID();
  // An EventEmitter as the abort signal (undici's request() takes one), not an AbortController: a
  // controller per call, on top of the one inside fetch, showed in the worker's CPU profile at high
  // concurrency. The timer covers connect, headers and body; the caller's listener goes with the call.
  const abort = new EventEmitter();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.emit('abort');
  }, opts.timeoutMs);
  const onAbort = (): void => {
    abort.emit('abort');
  };
  if (opts.signal?.aborted) {
    clearTimeout(timer);
    throw opts.signal.reason;
  }
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await call(opts, url, clientRequestId, abort, () => timedOut);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

async function call(
  opts: RetireCallOptions,
  url: string,
  clientRequestId: string,
  abort: EventEmitter,
  timedOut: () => boolean,
): Promise<GraphSuccess> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);

  const failure = (err: unknown): unknown => {
    if (opts.signal?.aborted) return opts.signal.reason;
    const details = { status: null, clientRequestId, durationMs: elapsed() };
    if (timedOut()) return new GraphTimeoutError(details, opts.timeoutMs);
    return new GraphNetworkError(details, (err as { cause?: unknown })?.cause ?? err);
  };

  // undici's request() rather than fetch: the same connection pool and global dispatcher (the proxy
  // agent, src/net/proxy.ts), without WHATWG streams and header conversions per call. Redirects are
  // not followed (a token must not travel to another host).
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${opts.token}`,
        'client-request-id': clientRequestId,
        'return-client-request-id': 'true',
        accept: 'application/json',
        // Graph wants a length on a bodiless POST.
        'content-length': '0',
      },
      signal: abort,
    });
  } catch (err) {
    throw failure(err);
  }

  const requestId = single(response.headers['request-id']);
  const status = response.statusCode;
  if (status >= 200 && status < 300) {
    // Consume (not destroy) the body so the keep-alive socket goes back to the pool.
    await response.body.dump({ limit: MAX_ERROR_BODY }).catch(() => undefined);
    return { status, requestId, clientRequestId, durationMs: elapsed() };
  }
  let bodyText = '';
  try {
    bodyText = await readCapped(response.body, MAX_ERROR_BODY);
  } catch {
    if (opts.signal?.aborted) throw opts.signal.reason;
    // The status is what matters; a body cut short by the timeout still leaves a classifiable answer.
  }
  const headers = response.headers;
  throw classifyResponse(
    status,
    { get: (name: string) => single(headers[name.toLowerCase()]) ?? null },
    bodyText,
    { clientRequestId, durationMs: elapsed() },
  );
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    size += buf.byteLength;
    if (size >= limit) {
      // Past the cap the rest is not worth reading: drop it (this socket is not reused).
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}
