// Minimal JWT handling for the simulator: HS256 for its own access tokens, unsigned id tokens,
// and RS256/PS256 verification of certificate client assertions. Not a general JWT library.
import { constants, createHmac, type KeyObject, timingSafeEqual, verify } from 'node:crypto';

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

export function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

function encodePart(value: object): string {
  return base64url(JSON.stringify(value));
}

/** Splits and parses a compact JWT; undefined when malformed. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown;
    if (!isRecord(header) || !isRecord(payload)) return undefined;
    return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
  } catch {
    return undefined;
  }
}

export function signHs256(payload: object, key: Buffer): string {
  const input = `${encodePart({ typ: 'JWT', alg: 'HS256' })}.${encodePart(payload)}`;
  return `${input}.${base64url(createHmac('sha256', key).update(input).digest())}`;
}

/** The payload when the HS256 signature is valid, else undefined. */
export function verifyHs256(token: string, key: Buffer): Record<string, unknown> | undefined {
  const decoded = decodeJwt(token);
  if (decoded?.header.alg !== 'HS256') return undefined;
  const expected = createHmac('sha256', key).update(decoded.signingInput).digest();
  if (expected.length !== decoded.signature.length || !timingSafeEqual(expected, decoded.signature))
    return undefined;
  return decoded.payload;
}

/** Entra's id tokens are signed; MSAL does not verify them, so the simulator leaves them unsigned. */
export function unsignedJwt(payload: object): string {
  return `${encodePart({ typ: 'JWT', alg: 'none' })}.${encodePart(payload)}.`;
}

/** RS256 (PKCS#1 v1.5) or PS256 (PSS) signature check against a public key. */
export function verifyRsaSignature(decoded: DecodedJwt, publicKey: KeyObject): boolean {
  const alg = decoded.header.alg;
  const input = Buffer.from(decoded.signingInput);
  if (alg === 'RS256') return verify('sha256', input, publicKey, decoded.signature);
  if (alg === 'PS256') {
    return verify(
      'sha256',
      input,
      {
        key: publicKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_AUTO,
      },
      decoded.signature,
    );
  }
  return false;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
