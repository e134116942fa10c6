// Why a notification was not delivered. The notify worker branches on `permanent`: a permanent
// failure ends the notification at once (a notify dead letter), anything else is retried with backoff.

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    /** HTTP status, or null for a timeout / connection error / refusal before sending. */
    readonly status: number | null,
    /** Retrying cannot help (410 Gone, a resume path Graph does not know, a URL no longer configured). */
    readonly permanent: boolean,
    /** The destination's Retry-After, when it sent one: a floor for the next wait. */
    readonly retryAfterMs?: number,
    /** Short machine-readable cause for the audit: `http_503`, `timeout`, `network`, `gone`… */
    readonly code: string = status === null ? 'network' : `http_${status}`,
  ) {
    super(message);
  }
}
