// Confidential-client authentication at the token endpoint: client secret, workload-identity
// (federated) assertion, or a certificate-signed JWT assertion (RFC 7523) checked like Entra does.
import { timingSafeEqual } from 'node:crypto';
import { decodeJwt, verifyRsaSignature } from '../jwt.js';
import type { SimState } from '../state.js';
import { type EntraErrorSpec, entraErrors } from './errors.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CLOCK_SKEW_SEC = 300;

export type CredentialCheck =
  | { ok: true; method: 'secret' | 'federated' | 'certificate' }
  | { ok: false; error: EntraErrorSpec };

/** `required` false lets public clients (device code, refresh) through when they send no credential. */
export function checkClientCredential(
  state: SimState,
  params: URLSearchParams,
  authorization: string | undefined,
  tokenEndpoint: string,
  required: boolean,
  now = Date.now(),
): CredentialCheck | { ok: true; method: 'none' } {
  const secret = params.get('client_secret') ?? basicSecret(authorization);
  const assertion = params.get('client_assertion');
  if (secret !== null) {
    if (!safeEqual(secret, state.clientSecret))
      return { ok: false, error: entraErrors.invalidSecret(state.clientId) };
    if (state.secretExpired) return { ok: false, error: entraErrors.expiredSecret(state.clientId) };
    return { ok: true, method: 'secret' };
  }
  if (assertion !== null) {
    if (params.get('client_assertion_type') !== JWT_BEARER) {
      return { ok: false, error: entraErrors.missingParameter('client_assertion_type') };
    }
    if (safeEqual(assertion, state.federatedToken)) return { ok: true, method: 'federated' };
    return checkCertificateAssertion(state, assertion, tokenEndpoint, now);
  }
  return required ? { ok: false, error: entraErrors.missingCredential() } : { ok: true, method: 'none' };
}

function checkCertificateAssertion(
  state: SimState,
  assertion: string,
  tokenEndpoint: string,
  now: number,
): CredentialCheck {
  const jwt = decodeJwt(assertion);
  const fail = (reason: string): CredentialCheck => ({
    ok: false,
    error: entraErrors.invalidAssertion(reason),
  });
  if (!jwt) return fail('The assertion is not a well-formed JWT.');
  const x5t = jwt.header.x5t;
  const x5tS256 = jwt.header['x5t#S256'];
  // A JWT without a certificate thumbprint is a federated token that matched no credential.
  if (x5t === undefined && x5tS256 === undefined)
    return { ok: false, error: entraErrors.federatedMismatch() };
  const cert = state.certificate;
  if (!cert || (x5t !== cert.x5t && x5tS256 !== cert.x5tS256)) {
    return fail(`The key was not found. Thumbprint of key used by client: '${String(x5t ?? x5tS256)}'.`);
  }
  if (!verifyRsaSignature(jwt, cert.publicKey)) return fail('The signature is invalid.');
  const { aud, iss, sub, exp, nbf } = jwt.payload;
  if (typeof aud !== 'string' || normaliseUrl(aud) !== normaliseUrl(tokenEndpoint)) {
    return fail(`The audience '${String(aud)}' is invalid; expected '${tokenEndpoint}'.`);
  }
  if (iss !== state.clientId || sub !== state.clientId)
    return fail('The issuer and subject must be the client id.');
  const nowSec = now / 1000;
  if (typeof exp !== 'number' || exp + CLOCK_SKEW_SEC < nowSec) return fail('The assertion has expired.');
  if (typeof nbf === 'number' && nbf - CLOCK_SKEW_SEC > nowSec)
    return fail('The assertion is not yet valid.');
  return { ok: true, method: 'certificate' };
}

function basicSecret(authorization: string | undefined): string | null {
  if (!authorization?.toLowerCase().startsWith('basic ')) return null;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decodeURIComponent(decoded.slice(colon + 1));
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function normaliseUrl(url: string): string {
  return url.split('?')[0]?.replace(/\/+$/, '').toLowerCase() ?? '';
}
