// The one Graph call this product makes: POST …/users/{user}/removeAllDevicesFromManagement.
import { randomUUID } from 'node:crypto';
import type { GraphSuccess } from '../interfaces.js';
import { graphExchange } from './transport.js';
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

/**
 * Performs the call once (no retry: callers own retry policy). Resolves on any 2xx; rejects with a
 * GraphError subclass for every HTTP failure, timeout or connection error, or with the caller's
 * abort reason when `signal` fired. Throws InsecureGraphUrlError before sending anything to a
 * non-https, non-loopback base URL.
 */
export async function removeAllDevicesFromManagement(opts: RetireCallOptions): Promise<GraphSuccess> {
  checkedBaseUrl(opts.baseUrl);
  const clientRequestId = opts.clientRequestId ?? randomUUID();
  const answer = await graphExchange({
    method: 'POST',
    url: userActionUrl(opts.baseUrl, opts.user),
    token: opts.token,
    timeoutMs: opts.timeoutMs,
    clientRequestId,
    signal: opts.signal,
    maxBodyBytes: 0,
  });
  return {
    status: answer.status,
    requestId: answer.requestId,
    clientRequestId,
    durationMs: answer.durationMs,
  };
}
