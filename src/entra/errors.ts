// Token failures are not Graph failures: they never dead-letter a job, they open the circuit.

export class TokenAcquisitionError extends Error {
  /** Set when the token endpoint (or MSAL's replay of its 429/5xx) asked us to wait this long. */
  readonly retryAfterMs?: number;

  /**
   * @param code MSAL/Entra error code, e.g. `invalid_client`, `invalid_grant`, `consent_required`,
   *   `unauthorized_client`, `interaction_required`, `login_required`, `network_error`,
   *   `token_endpoint_unavailable`, `throttled`, `token_cache_unreadable`, `certificate_unreadable`,
   *   `federated_token_unreadable`, `device_code_expired`.
   * @param transient true for network errors, 5xx and 429 from the token endpoint: worth a few retries
   *   before the circuit opens.
   */
  constructor(
    message: string,
    readonly code: string,
    readonly transient: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** Delegated mode without a prior `offboard login`: an operator must sign in. */
export class LoginRequiredError extends TokenAcquisitionError {
  constructor(message = 'no signed-in account in the token cache: run `offboard login`') {
    super(message, 'login_required', false);
  }
}
