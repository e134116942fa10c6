// One HTTP exchange with Graph, under every call of src/graph/call.ts (writes and reads): undici's
// request() (the same connection pool and global dispatcher as fetch, so the proxy agent of
// src/net/proxy.ts applies, without WHATWG streams and header conversions per call), one timer covering
// connect, headers and body, the caller's abort reason rethrown as is, redirects never followed (a
// token must not travel to another host), and every non-2xx classified into the GraphError callers
// branch on.
import { EventEmitter } from 'node:events';
import { type Dispatcher, request } from 'undici';
import { readCapped } from '../net/read-capped.js';
import { classifyResponse } from './classify.js';
import { GraphNetworkError, GraphTimeoutError } from './errors.js';

export interface GraphExchange {
  /** DELETE: the per-device record and Autopilot removals (DEVICE_POLICY_FILE), answered 204. */
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** Bearer access token. Never logged. */
  token: string;
  /** Budget covering connect, headers and body. */
  timeoutMs: number;
  clientRequestId: string;
  /** Extra request headers (e.g. `ConsistencyLevel: eventual`). */
  headers?: Record<string, string>;
  /** A JSON body (POST only, e.g. the Lifecycle Workflows resume); none = a bodiless POST. */
  body?: string;
  /** Caller cancellation. Its abort reason is rethrown as is. */
  signal?: AbortSignal;
  /** Largest 2xx body read; 0 = read none (the body is drained so the socket is reused). */
  maxBodyBytes: number;
}

export interface GraphAnswer {
  status: number;
  requestId?: string;
  durationMs: number;
  /** The 2xx body, at most maxBodyBytes of it. */
  text: string;
  /** The body was longer than maxBodyBytes. */
  cut: boolean;
}

/** Error bodies are small; anything beyond this is not worth holding in memory. */
const MAX_ERROR_BODY = 64 * 1024;

/** Resolves on 2xx; rejects with a GraphError subclass, or with the caller's abort reason. */
export async function graphExchange(x: GraphExchange): Promise<GraphAnswer> {
  if (!Number.isFinite(x.timeoutMs) || x.timeoutMs <= 0) {
    throw new RangeError('timeoutMs must be a positive number');
  }
  if (x.signal?.aborted) throw x.signal.reason;
  // An EventEmitter as the abort signal (request() takes one), not an AbortController: a controller
  // per call showed in the worker's CPU profile at high concurrency.
  const abort = new EventEmitter();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.emit('abort');
  }, x.timeoutMs);
  const onAbort = (): void => {
    abort.emit('abort');
  };
  x.signal?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const failure = (err: unknown): unknown => {
    if (x.signal?.aborted) return x.signal.reason;
    const details = { status: null, clientRequestId: x.clientRequestId, durationMs: elapsed() };
    if (timedOut) return new GraphTimeoutError(details, x.timeoutMs);
    return new GraphNetworkError(details, (err as { cause?: unknown })?.cause ?? err);
  };
  try {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(x.url, {
        method: x.method,
        headers: {
          ...x.headers,
          authorization: `Bearer ${x.token}`,
          'client-request-id': x.clientRequestId,
          'return-client-request-id': 'true',
          accept: 'application/json',
          // Graph wants a length on a bodiless POST.
          ...(x.method === 'POST'
            ? x.body === undefined
              ? { 'content-length': '0' }
              : { 'content-type': 'application/json' }
            : {}),
        },
        ...(x.body === undefined ? {} : { body: x.body }),
        signal: abort,
      });
    } catch (err) {
      throw failure(err);
    }
    const { statusCode: status, headers } = response;
    const requestId = single(headers['request-id']);
    if (status >= 200 && status < 300) {
      if (x.maxBodyBytes === 0) {
        // Drain (not destroy) so the keep-alive socket goes back to the pool.
        await response.body.dump({ limit: MAX_ERROR_BODY }).catch(() => undefined);
        return { status, requestId, durationMs: elapsed(), text: '', cut: false };
      }
      let body: { text: string; cut: boolean };
      try {
        body = await readCapped(response.body, x.maxBodyBytes);
      } catch (err) {
        throw failure(err);
      }
      return { status, requestId, durationMs: elapsed(), ...body };
    }
    let text = '';
    try {
      ({ text } = await readCapped(response.body, MAX_ERROR_BODY));
    } catch {
      if (x.signal?.aborted) throw x.signal.reason;
      // The status is what matters; a body cut short by the timeout still leaves a classifiable answer.
    }
    throw classifyResponse(
      status,
      { get: (name: string) => single(headers[name.toLowerCase()]) ?? null },
      text,
      { clientRequestId: x.clientRequestId, durationMs: elapsed() },
    );
  } finally {
    clearTimeout(timer);
    x.signal?.removeEventListener('abort', onAbort);
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
