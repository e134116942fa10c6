// MSAL's network module, replaced for two reasons: MSAL's own client has no timeout on POST (a hung
// token endpoint would hang every job), and MSAL hides the HTTP status of a failed or replayed
// request. This one records what the authority answered so a failure can be classed as transient.
// It never follows a redirect: a 307 keeps method and body, so following one would re-send the client
// secret or assertion to wherever the Location points (even plain http). A 3xx is an error instead.
import {
  AuthError,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';

/** MSAL replays a 429/5xx for Retry-After seconds, 60 s when absent, at most one hour (ThrottlingUtils). */
const MSAL_DEFAULT_THROTTLE_MS = 60_000;
const MSAL_MAX_THROTTLE_MS = 3_600_000;

/** Error code of a token or metadata request answered with a 3xx (never followed). */
export const AUTHORITY_REDIRECT = 'authority_redirect';

export interface AuthorityFailure {
  /** HTTP status of a 429/5xx answer; absent for a connection failure or timeout. */
  status?: number;
  network?: boolean;
  /** What went wrong, for messages: host and system error code, never a URL query or a body. */
  detail?: string;
  /** When MSAL will stop replaying this failure from its throttling cache (epoch ms). */
  replayUntil: number;
  at: number;
}

export interface TrackedHttpClientOptions {
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
}

export class TrackedHttpClient implements INetworkModule {
  /** HTTP exchanges attempted; an acquisition that fails without one was answered from MSAL's caches. */
  requests = 0;
  lastFailure?: AuthorityFailure;
  /** Status and OAuth `error` code of the latest answer (MSAL ignores errors from the device-code endpoint). */
  lastAnswer?: { status: number; error?: string };
  private readonly timeoutMs: number;

  constructor(opts: TrackedHttpClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout ?? this.timeoutMs);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options, this.timeoutMs);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    url: string,
    options: NetworkRequestOptions | undefined,
    timeoutMs: number,
  ): Promise<NetworkResponse<T>> {
    this.requests += 1;
    const correlationId = options?.correlationId ?? '';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: options?.headers,
        body: method === 'POST' ? (options?.body ?? '') : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const now = Date.now();
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const detail = timedOut
        ? `no answer from ${new URL(url).host} within ${timeoutMs} ms`
        : `cannot reach ${new URL(url).host} (${networkCause(err)})`;
      this.lastFailure = { network: true, detail, at: now, replayUntil: now };
      // MSAL passes AuthError through unchanged; `network_error` is the code it uses itself.
      throw new AuthError('network_error', correlationId, detail);
    }
    if (res.status >= 300 && res.status < 400) {
      // Not a transient failure: an authority that redirects is misconfigured or not the authority.
      // The message names the host and status only, never the Location, the query or the body.
      await res.body?.cancel();
      const detail = `the authority at ${new URL(url).host} answered HTTP ${res.status} (a redirect, not followed)`;
      this.lastAnswer = { status: res.status };
      throw new AuthError(AUTHORITY_REDIRECT, correlationId, detail);
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const retryAfter = headers['retry-after'];
    if (res.status === 429 || res.status >= 500 || (!res.ok && retryAfter !== undefined)) {
      const now = Date.now();
      this.lastFailure = { status: res.status, at: now, replayUntil: now + msalThrottleMs(retryAfter) };
    }
    let body: T;
    try {
      body = (await res.json()) as T;
    } catch {
      throw new AuthError(
        'token_parsing_error',
        correlationId,
        `the authority answered HTTP ${res.status} without a JSON body`,
      );
    }
    const error = (body as { error?: unknown } | null)?.error;
    this.lastAnswer = {
      status: res.status,
      error: typeof error === 'string' ? error.slice(0, 100) : undefined,
    };
    return { headers, body, status: res.status };
  }
}

function msalThrottleMs(retryAfter: string | undefined): number {
  const seconds = Number.parseInt(retryAfter ?? '', 10);
  const ms = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : MSAL_DEFAULT_THROTTLE_MS;
  return Math.min(ms, MSAL_MAX_THROTTLE_MS);
}

/** The system error code (ECONNREFUSED, ENOTFOUND, CERT_…) without any URL or payload. */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  return typeof cause?.code === 'string' ? cause.code : 'connection failed';
}
