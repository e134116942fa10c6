// The one Graph call this product makes: POST …/users/{user}/removeAllDevicesFromManagement.
import { randomUUID } from 'node:crypto';
import type { GraphSuccess } from '../interfaces.js';
import { classifyResponse } from './classify.js';
import { GraphNetworkError, GraphTimeoutError } from './errors.js';
import { checkGraphBaseUrl, userActionUrl } from './url.js';

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
  checkGraphBaseUrl(opts.baseUrl);
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new RangeError('timeoutMs must be a positive number');
  }
  const url = userActionUrl(opts.baseUrl, opts.user);
  const clientRequestId = opts.clientRequestId ?? randomUUID();
  // One controller per call, not AbortSignal.timeout + AbortSignal.any: those allocate signals that
  // live until GC, which showed in the worker's profile at high concurrency. The timeout also covers
  // reading the body; the timer and the caller's listener are gone when the call ends.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException('The operation timed out', 'TimeoutError'));
  }, opts.timeoutMs);
  const onAbort = (): void => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await call(opts, url, clientRequestId, controller.signal, () => timedOut);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

async function call(
  opts: RetireCallOptions,
  url: string,
  clientRequestId: string,
  signal: AbortSignal,
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

  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${opts.token}`,
        'client-request-id': clientRequestId,
        'return-client-request-id': 'true',
        accept: 'application/json',
      },
      // An empty body makes fetch send `Content-Length: 0`, which Graph wants on a bodiless POST.
      body: new Uint8Array(0),
      signal,
      redirect: 'manual',
    });
  } catch (err) {
    throw failure(err);
  }

  const requestId = response.headers.get('request-id') ?? undefined;
  if (response.status >= 200 && response.status < 300) {
    // Read (not cancel) a small body: cancelling an unfinished body makes undici drop the keep-alive socket.
    await readCapped(response, MAX_ERROR_BODY).catch(() => undefined);
    return { status: response.status, requestId, clientRequestId, durationMs: elapsed() };
  }
  let bodyText = '';
  try {
    bodyText = await readCapped(response, MAX_ERROR_BODY);
  } catch {
    if (opts.signal?.aborted) throw opts.signal.reason;
    // The status is what matters; a body cut short by the timeout still leaves a classifiable answer.
  }
  throw classifyResponse(response.status, response.headers, bodyText, {
    clientRequestId,
    durationMs: elapsed(),
  });
}

async function readCapped(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size >= limit) {
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}
