// The retire action: POST …/users/{user}/removeAllDevicesFromManagement. The worker sends it through
// graphCall (paced, on the write budget); this one-off form with a fixed token and no pacer is for
// the simulator's own tests and tools.
import type { GraphSuccess } from '../interfaces.js';
import { fixedToken, type GraphTransport, graphCall } from './call.js';
import { userActionPath } from './url.js';

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
  /** Caller cancellation. Its abort reason is rethrown as is. */
  signal?: AbortSignal;
  transport?: GraphTransport;
}

/**
 * Performs the call once, unpaced, with the given token (no retry, no refresh). Resolves on any 2xx;
 * rejects with a GraphError subclass, or InsecureGraphUrlError before sending anything to a
 * non-https, non-loopback base URL.
 */
export async function removeAllDevicesFromManagement(opts: RetireCallOptions): Promise<GraphSuccess> {
  const res = await graphCall(
    {
      baseUrl: opts.baseUrl,
      timeoutMs: opts.timeoutMs,
      tokenProvider: fixedToken(opts.token),
      ...(opts.transport ? { transport: opts.transport } : {}),
    },
    {
      method: 'POST',
      path: userActionPath(opts.user),
      subject: opts.user,
      refreshOn401: false,
      ...(opts.clientRequestId ? { clientRequestId: opts.clientRequestId } : {}),
      ...(opts.signal ? { call: opts.signal } : {}),
    },
  );
  return {
    status: res.status,
    requestId: res.requestId,
    clientRequestId: res.clientRequestId,
    durationMs: res.durationMs,
  };
}
