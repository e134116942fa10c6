// Webhook signatures, Stripe-style: HMAC-SHA256(secret, `${timestamp}.${raw body}`) in
// `X-Offboard-Signature: sha256=<hex>`, with the timestamp (unix seconds, set at each delivery
// attempt) in `X-Offboard-Timestamp`. Binding the timestamp into the MAC lets a receiver refuse
// replays older than its tolerance; the event id header lets it drop redeliveries it already has.
// Each attempt also carries the Standard Webhooks headers (webhook-id, webhook-timestamp,
// webhook-signature: `v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>`), so a receiver
// can verify with the published `standardwebhooks` libraries instead of copying our verifier.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const EVENT_ID_HEADER = 'x-offboard-event-id';
export const TIMESTAMP_HEADER = 'x-offboard-timestamp';
export const SIGNATURE_HEADER = 'x-offboard-signature';

/** The Standard Webhooks secret serialization: `whsec_` + base64 of the key bytes. */
export const STANDARD_SECRET_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The HMAC key of the Standard Webhooks signature. A WEBHOOK_SECRET already in the spec's form
 * (`whsec_<base64>`) is decoded as the spec says, so receivers hand the same string to their library;
 * any other secret is used as its UTF-8 bytes, which a receiver's library gets as
 * `whsec_` + base64(secret) (see standardWebhooksSecret). The X-Offboard signature keeps using the
 * secret string as it is: existing receivers see no change.
 */
export function standardWebhooksKey(secret: string): Buffer {
  if (secret.startsWith(STANDARD_SECRET_PREFIX)) {
    const b64 = secret.slice(STANDARD_SECRET_PREFIX.length);
    if (b64.length > 0 && BASE64.test(b64)) return Buffer.from(b64, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

/** The `whsec_…` string a Standard Webhooks library needs to verify deliveries signed with `secret`. */
export function standardWebhooksSecret(secret: string): string {
  return `${STANDARD_SECRET_PREFIX}${standardWebhooksKey(secret).toString('base64')}`;
}

/** `v1,<base64>` over `id.timestamp.body`, as the Standard Webhooks specification defines. */
export function computeStandardSignature(
  secret: string,
  msgId: string,
  timestampSec: number,
  rawBody: string | Buffer,
): string {
  const mac = createHmac('sha256', standardWebhooksKey(secret));
  mac.update(`${msgId}.${timestampSec}.`);
  mac.update(rawBody);
  return `v1,${mac.digest('base64')}`;
}

/** `sha256=<hex>` for one timestamp and raw body. */
export function computeSignature(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSec}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

/** The signature headers of one delivery attempt: X-Offboard-* and the Standard Webhooks trio. */
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
    // The event id is stable across redeliveries, which is what the spec asks of webhook-id.
    'webhook-id': eventId,
    'webhook-timestamp': String(ts),
    'webhook-signature': computeStandardSignature(secret, eventId, ts, rawBody),
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
