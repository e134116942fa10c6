// Graph failures as named classes. The worker branches on the class (instanceof), never on text.

export interface GraphErrorDetails {
  status: number | null;
  /** `error.code` from the body (or the inner Intune JSON when it is more specific). */
  code?: string;
  /** `error.message`, with Intune's JSON-in-message unwrapped where possible. */
  graphMessage?: string;
  requestId?: string;
  clientRequestId: string;
  durationMs: number;
}

export abstract class GraphError extends Error {
  readonly status: number | null;
  readonly code?: string;
  readonly graphMessage?: string;
  readonly requestId?: string;
  readonly clientRequestId: string;
  readonly durationMs: number;
  /** True when a later call may succeed without anyone changing anything. */
  abstract readonly retryable: boolean;

  constructor(message: string, details: GraphErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.status = details.status;
    this.code = details.code;
    this.graphMessage = details.graphMessage;
    this.requestId = details.requestId;
    this.clientRequestId = details.clientRequestId;
    this.durationMs = details.durationMs;
  }
}

/** 429. `retryAfterMs` is undefined when Graph sent no usable Retry-After. */
export class GraphThrottledError extends GraphError {
  readonly retryable = true;
  constructor(
    details: GraphErrorDetails,
    readonly retryAfterMs: number | undefined,
  ) {
    super(
      `Graph throttled the request (429)${retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`}`,
      details,
    );
  }
}

/** 5xx (500, 502, 503, 504 and others). 503/504 may carry Retry-After. */
export class GraphTransientError extends GraphError {
  readonly retryable = true;
  constructor(
    details: GraphErrorDetails,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`Graph answered ${details.status}`, details);
  }
}

/** The call did not answer within the per-call timeout. It may have been applied anyway. */
export class GraphTimeoutError extends GraphError {
  readonly retryable = true;
  constructor(
    details: GraphErrorDetails,
    readonly timeoutMs: number,
  ) {
    super(`Graph did not answer within ${timeoutMs} ms`, details);
  }
}

/** Connection refused/reset, DNS failure, TLS failure: nothing came back. */
export class GraphNetworkError extends GraphError {
  readonly retryable = true;
  constructor(details: GraphErrorDetails, cause: unknown) {
    super(`Graph could not be reached: ${(cause as Error)?.message ?? String(cause)}`, details, { cause });
  }
}

/** 400 and other 4xx that retrying cannot fix. */
export class GraphBadRequestError extends GraphError {
  readonly retryable = false;
  constructor(details: GraphErrorDetails) {
    super(`Graph rejected the request (${details.status})`, details);
  }
}

/** 404: no such user in the tenant. */
export class GraphNotFoundError extends GraphError {
  readonly retryable = false;
  constructor(details: GraphErrorDetails) {
    super('Graph does not know this user (404)', details);
  }
}

/** 403 for this user. Many of them across users mean a missing permission: the circuit decides. */
export class GraphForbiddenError extends GraphError {
  readonly retryable = false;
  /**
   * The application permissions (`roles`) of the app-only token Graph refused, set by the call that
   * got the 403; undefined when that token is not a readable app token (delegated, opaque). [] is an
   * app without any granted permission: admin consent removed or never given.
   */
  tokenRoles?: readonly string[];
  constructor(details: GraphErrorDetails) {
    super('Graph refused the action for this user (403)', details);
  }
}

/** 401: the token was not accepted. Systemic once a forced token refresh did not help. */
export class GraphUnauthorizedError extends GraphError {
  readonly retryable = false;
  constructor(details: GraphErrorDetails) {
    super('Graph did not accept the token (401)', details);
  }
}
