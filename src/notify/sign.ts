// Webhook signatures, Stripe-style: HMAC-SHA256(secret, `${timestamp}.${raw body}`) in
// `X-Offboard-Signature: sha256=<hex>`, with the timestamp (unix seconds, set at each delivery
// attempt) in `X-Offboard-Timestamp`. Binding the timestamp into the MAC lets a receiver refuse
// replays older than its tolerance; the event id header lets it drop redeliveries it already has.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const EVENT_ID_HEADER = 'x-offboard-event-id';
export const TIMESTAMP_HEADER = 'x-offboard-timestamp';
export const SIGNATURE_HEADER = 'x-offboard-signature';

/** `sha256=<hex>` for one timestamp and raw body. */
export function computeSignature(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSec}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

/** The three headers of one delivery attempt. */
export function signedHeaders(
  secret: string,
  eventId: string,
  rawBody: string,
  nowMs: number = Date.now(),
): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return {
    'X-Offboard-Event-Id': eventId,
    'X-Offboard-Timestamp': String(ts),
    'X-Offboard-Signature': computeSignature(secret, ts, rawBody),
  };
}

/** Node's IncomingHttpHeaders, a fetch Headers object, or a plain record (any case). */
export type HeaderSource =
  | Headers
  | Record<string, string | string[] | undefined>
  | { get(name: string): string | null };

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  }
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/**
 * For receivers: true when the signature matches the raw body (exactly the bytes received, before
 * any JSON parsing) and the timestamp is within `toleranceSec` of now. Compares in constant time.
 * Several `sha256=` values separated by commas are accepted (any one may match).
 */
export function verifySignature(
  secret: string,
  headers: HeaderSource,
  rawBody: string | Buffer,
  toleranceSec = 300,
  nowMs: number = Date.now(),
): boolean {
  const ts = header(headers, TIMESTAMP_HEADER)?.trim();
  const sig = header(headers, SIGNATURE_HEADER);
  if (!secret || !ts || !sig || !/^\d{1,12}$/.test(ts)) return false;
  const tsSec = Number(ts);
  if (Math.abs(nowMs / 1000 - tsSec) > toleranceSec) return false;
  const expected = Buffer.from(computeSignature(secret, tsSec, rawBody));
  let ok = false;
  for (const candidate of sig.split(',')) {
    const given = Buffer.from(candidate.trim());
    // Lengths are public (always sha256= + 64 hex); only equal lengths go to the constant-time compare.
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}
