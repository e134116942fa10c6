// What an access token says about itself: Entra's access tokens for Graph are JWTs whose payload names
// the resource (`aud`), the tenant (`tid`) and the permissions granted (`roles` for an app, `scp` for a
// signed-in user). Read without verifying the signature: only Graph validates its tokens, and offboard
// reads the claims to explain a refusal before it happens (offboard preflight) or after Graph made it
// (a 403 to a token without the permission stops the tenant: control/permission-refusal.ts), never to
// decide access itself.

/** The claims preflight reads; absent ones are undefined. */
export interface AccessTokenClaims {
  aud?: string;
  tid?: string;
  /** `app` or `user` (Entra's `idtyp`); absent on some tokens. */
  idtyp?: string;
  /** Application permissions (app-only tokens). */
  roles?: string[];
  /** Delegated permissions (user tokens), from the space-separated `scp`. */
  scp?: string[];
  /** Seconds since the epoch. */
  exp?: number;
}

/** The token is not a JWT whose payload can be read (an opaque or damaged token). */
export class UnreadableTokenError extends Error {
  override readonly name = 'UnreadableTokenError';
}

/** Decodes the payload of a compact JWT. Never logs or returns the token itself. */
export function readAccessTokenClaims(token: string): AccessTokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) throw new UnreadableTokenError('the access token is not a JWT');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new UnreadableTokenError('the access token payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new UnreadableTokenError('the access token payload is not a JSON object');
  }
  const p = payload as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const out: AccessTokenClaims = {};
  if (str(p.aud)) out.aud = str(p.aud);
  if (str(p.tid)) out.tid = str(p.tid);
  if (str(p.idtyp)) out.idtyp = str(p.idtyp);
  if (Array.isArray(p.roles)) out.roles = p.roles.filter((r): r is string => typeof r === 'string');
  if (typeof p.scp === 'string') out.scp = p.scp.split(' ').filter(Boolean);
  if (typeof p.exp === 'number') out.exp = p.exp;
  return out;
}

/**
 * The application permissions of an app-only token ([] when it carries none), or undefined when the
 * token is delegated (it has `scp`) or cannot be read: then nothing is concluded from it.
 */
export function appTokenRoles(token: string): string[] | undefined {
  let claims: AccessTokenClaims;
  try {
    claims = readAccessTokenClaims(token);
  } catch (err) {
    if (err instanceof UnreadableTokenError) return undefined;
    throw err;
  }
  if (claims.scp !== undefined || (claims.idtyp !== undefined && claims.idtyp !== 'app')) return undefined;
  return claims.roles ?? [];
}
