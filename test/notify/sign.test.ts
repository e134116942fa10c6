// Webhook signatures: what a receiver checks with verifySignature, and what it must refuse.
import { createHmac } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  signedHeaders,
  standardWebhooksSecret,
  verifySignature,
} from '../../src/notify/sign.js';

const SECRET = 'whsec-test-0123456789abcdef';
const BODY = JSON.stringify({ id: 'evt_1', type: 'offboarding.retired', data: { user: 'a@contoso.com' } });

describe('webhook signatures', () => {
  it('signs timestamp + "." + raw body with HMAC-SHA256 (hex), as documented', () => {
    const now = Date.UTC(2026, 0, 5, 12, 0, 0);
    const h = signedHeaders(SECRET, 'evt_1', BODY, now);
    const ts = Math.floor(now / 1000);
    expect(h['X-Offboard-Event-Id']).toBe('evt_1');
    expect(h['X-Offboard-Timestamp']).toBe(String(ts));
    const plain = createHmac('sha256', SECRET).update(`${ts}.${BODY}`).digest('hex');
    expect(h['X-Offboard-Signature']).toBe(`sha256=${plain}`);
    expect(verifySignature(SECRET, h, BODY, 300, now)).toBe(true);
  });

  it('accepts Node-style lower-case headers, a fetch Headers object and a Buffer body', () => {
    const h = signedHeaders(SECRET, 'evt_2', BODY);
    const lower = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
    expect(verifySignature(SECRET, lower, Buffer.from(BODY))).toBe(true);
    expect(verifySignature(SECRET, new Headers(h), BODY)).toBe(true);
  });

  it('refuses a tampered body, another secret, a stale or future timestamp, and missing headers', () => {
    const now = Date.now();
    const h = signedHeaders(SECRET, 'evt_3', BODY, now);
    expect(verifySignature(SECRET, h, BODY.replace('a@contoso.com', 'b@contoso.com'), 300, now)).toBe(false);
    expect(verifySignature(SECRET, h, `${BODY} `, 300, now)).toBe(false);
    expect(verifySignature('another-secret-0123456789', h, BODY, 300, now)).toBe(false);
    expect(verifySignature(SECRET, h, BODY, 300, now + 301_000)).toBe(false);
    expect(verifySignature(SECRET, h, BODY, 300, now - 301_000)).toBe(false);
    expect(verifySignature(SECRET, h, BODY, 300, now + 299_000)).toBe(true);
    const { 'X-Offboard-Signature': _s, ...noSig } = h;
    expect(verifySignature(SECRET, noSig, BODY, 300, now)).toBe(false);
    const { 'X-Offboard-Timestamp': _t, ...noTs } = h;
    expect(verifySignature(SECRET, noTs, BODY, 300, now)).toBe(false);
    expect(verifySignature('', h, BODY, 300, now)).toBe(false);
  });

  it('binds the timestamp: a signature replayed with a fresh timestamp fails', () => {
    const now = Date.now();
    const h = signedHeaders(SECRET, 'evt_4', BODY, now - 3_600_000);
    const replay = { ...h, 'X-Offboard-Timestamp': String(Math.floor(now / 1000)) };
    expect(verifySignature(SECRET, replay, BODY, 300, now)).toBe(false);
  });

  it('accepts any one of several comma-separated signatures and refuses malformed ones', () => {
    const now = Date.now();
    const ts = Math.floor(now / 1000);
    const good = computeSignature(SECRET, ts, BODY);
    const other = computeSignature('old-secret-0123456789abc', ts, BODY);
    const headers = { 'x-offboard-timestamp': String(ts), 'x-offboard-signature': `${other}, ${good}` };
    expect(verifySignature(SECRET, headers, BODY, 300, now)).toBe(true);
    for (const bad of ['sha256=', good.slice(0, -1), good.toUpperCase(), `sha1=${good.slice(7)}`]) {
      expect(verifySignature(SECRET, { ...headers, 'x-offboard-signature': bad }, BODY, 300, now)).toBe(
        false,
      );
    }
    expect(verifySignature(SECRET, { ...headers, 'x-offboard-timestamp': '12e3' }, BODY, 300, now)).toBe(
      false,
    );
  });
});

describe('Standard Webhooks headers, verified with the published standardwebhooks package', () => {
  it('carry webhook-id, webhook-timestamp and v1,<base64 HMAC of id.timestamp.body> keyed by the secret bytes', () => {
    const now = Date.now();
    const h = signedHeaders(SECRET, 'evt_7', BODY, now);
    const ts = String(Math.floor(now / 1000));
    expect(h['webhook-id']).toBe('evt_7');
    expect(h['webhook-timestamp']).toBe(ts);
    expect(h['X-Offboard-Timestamp']).toBe(ts);
    const plain = createHmac('sha256', Buffer.from(SECRET, 'utf8'))
      .update(`evt_7.${ts}.${BODY}`)
      .digest('base64');
    expect(h['webhook-signature']).toBe(`v1,${plain}`);
    // What a receiver does: its library gets whsec_ + base64(WEBHOOK_SECRET), or the raw format.
    expect(standardWebhooksSecret(SECRET)).toBe(`whsec_${Buffer.from(SECRET).toString('base64')}`);
    expect(new Webhook(standardWebhooksSecret(SECRET)).verify(BODY, h)).toEqual(JSON.parse(BODY));
    expect(new Webhook(SECRET, { format: 'raw' }).verify(BODY, h)).toEqual(JSON.parse(BODY));
  });

  it('a whsec_ WEBHOOK_SECRET is decoded as the spec says: the library takes it verbatim', () => {
    const whsec = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const h = signedHeaders(whsec, 'evt_8', BODY);
    expect(new Webhook(whsec).verify(BODY, h)).toEqual(JSON.parse(BODY));
    expect(standardWebhooksSecret(whsec)).toBe(whsec);
    // The X-Offboard signature still keys on the string itself, unchanged for existing receivers.
    expect(verifySignature(whsec, h, BODY)).toBe(true);
  });

  it('the library refuses a tampered body, another secret, a changed id, a stale timestamp and a missing header', () => {
    const lib = new Webhook(standardWebhooksSecret(SECRET));
    const h = signedHeaders(SECRET, 'evt_9', BODY);
    expect(() => lib.verify(BODY.replace('a@contoso.com', 'b@contoso.com'), h)).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(standardWebhooksSecret('another-secret-0123456789')).verify(BODY, h)).toThrow(
      WebhookVerificationError,
    );
    expect(() => lib.verify(BODY, { ...h, 'webhook-id': 'evt_other' })).toThrow(WebhookVerificationError);
    const old = signedHeaders(SECRET, 'evt_9', BODY, Date.now() - 600_000);
    expect(() => lib.verify(BODY, old)).toThrow(/too old/);
    const { 'webhook-signature': _s, ...noSig } = h;
    expect(() => lib.verify(BODY, noSig)).toThrow(/Missing required headers/);
  });
});
