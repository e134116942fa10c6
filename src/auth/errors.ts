// Token failures are not Graph failures: they never dead-letter a job, they open the circuit.

export class TokenAcquisitionError extends Error {
  /**
   * @param code MSAL/Entra error code, e.g. `invalid_client`, `invalid_grant`, `consent_required`,
   *   `unauthorized_client`, `network_error`, `token_endpoint_unavailable`, `no_account` (delegated, not logged in).
   * @param transient true for network errors, 5xx and 429 from the token endpoint: worth a few retries
   *   before the circuit opens.
   */
  constructor(
    message: string,
    readonly code: string,
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Delegated mode without a prior `offboard login`: an operator must sign in. */
export class LoginRequiredError extends TokenAcquisitionError {
  constructor(message = 'no signed-in account in the token cache: run `offboard login`') {
    super(message, 'login_required', false);
  }
}
