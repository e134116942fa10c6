// Console sessions. The cookie is encrypted and authenticated by @fastify/secure-session (libsodium
// secretbox) and holds the SHA-256 digest of the key that signed in, an absolute expiry and the
// CSRF token. Every request resolves the digest against the configured keys again, so a key that
// is removed (or whose role changes) takes effect at the next request, exactly as on the API.
// A cookie cannot be taken back from a browser (or from whoever copied it), so sign-out records the
// session's id in Redis until the session would have expired, and every request checks that list:
// sign-out ends the session on every replica and for every copy of the cookie.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyEntry } from '../../config/api-keys.js';
import { ownKey } from '../../queue/names.js';
import type { RedisClient } from '../../redis/connection.js';
import type { Principal } from '../auth/keys.js';

export const COOKIE_NAME = 'offboard_console';
export const COOKIE_PATH = '/console';

/** What the console keeps in the session cookie. */
export interface ConsoleSession {
  /** SHA-256 hex of the API key that signed in (what API_KEYS holds, never the key itself). */
  sub?: string;
  /** Absolute end of the sign-in (ms); never extended by activity. */
  exp?: number;
  /** Random id of this sign-in, what sign-out revokes. A cookie without one is not a session. */
  sid?: string;
  /** Synchronizer token every form posts back as `_csrf`. */
  csrf?: string;
  /** One message for the next page (the result of an action). */
  flash?: Flash;
}

declare module '@fastify/secure-session' {
  interface SessionData {
    sub: string;
    exp: number;
    sid: string;
    csrf: string;
    flash: Flash;
  }
}

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

export interface SessionKey {
  key: Buffer;
  /** False when generated at start (CONSOLE_SESSION_KEY unset): sessions end with the process. */
  configured: boolean;
}

export function sessionKey(configured: Buffer | undefined): SessionKey {
  return configured ? { key: configured, configured: true } : { key: randomBytes(32), configured: false };
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sameToken(sent: unknown, expected: unknown): boolean {
  if (typeof sent !== 'string' || typeof expected !== 'string' || expected.length === 0) return false;
  const a = createHash('sha256').update(sent).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The configured key with this digest, compared in constant time against every entry. */
export function principalByDigest(entries: readonly ApiKeyEntry[], digestHex: string): Principal | null {
  if (!/^[0-9a-f]{64}$/.test(digestHex)) return null;
  const digest = Buffer.from(digestHex, 'hex');
  let found: Principal | null = null;
  for (const e of entries) {
    if (timingSafeEqual(digest, Buffer.from(e.sha256, 'hex')) && found === null) {
      found = { name: e.name, role: e.role, ...(e.tenants ? { tenants: e.tenants } : {}) };
    }
  }
  return found;
}

/** Reads the fields the console stores; anything else in the cookie is ignored. */
export function readSession(session: { get(key: string): unknown } | null | undefined): ConsoleSession {
  if (!session) return {};
  const sub = session.get('sub');
  const exp = session.get('exp');
  const sid = session.get('sid');
  const csrf = session.get('csrf');
  const flash = session.get('flash') as Flash | undefined;
  return {
    ...(typeof sub === 'string' ? { sub } : {}),
    ...(typeof exp === 'number' ? { exp } : {}),
    ...(typeof sid === 'string' ? { sid } : {}),
    ...(typeof csrf === 'string' ? { csrf } : {}),
    ...(flash && typeof flash.text === 'string' ? { flash } : {}),
  };
}

/** The console is served over TLS (directly, or by a proxy that says so). */
export function overTls(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

/** Where a signed-out session id is kept (its SHA-256, so Redis holds nothing a cookie carries). */
function signedOutKey(prefix: string, sid: string): string {
  return ownKey(prefix, 'console-signed-out', createHash('sha256').update(sid).digest('hex'));
}

/**
 * Records a sign-out until the session's own expiry (after that the cookie is refused anyway), so
 * the list holds at most the sessions signed out within CONSOLE_SESSION_TTL, each expiring.
 */
export async function recordSignOut(
  redis: RedisClient,
  prefix: string,
  session: ConsoleSession,
): Promise<void> {
  if (!session.sid || !session.exp) return;
  const ttlMs = session.exp - Date.now();
  if (ttlMs <= 0) return;
  await redis.set(signedOutKey(prefix, session.sid), '1', 'PX', Math.ceil(ttlMs));
}

/** True when this session was signed out. Redis errors propagate: an unverifiable session is not admitted. */
export async function isSignedOut(redis: RedisClient, prefix: string, sid: string): Promise<boolean> {
  return (await redis.exists(signedOutKey(prefix, sid))) === 1;
}
