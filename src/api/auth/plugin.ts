// The authentication and authorisation hook. Runs first on every request (onRequest), before the
// body is read, so an unauthenticated client cannot make the server parse megabytes of JSON.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../../config/api-keys.js';
import { ApiError, sendProblem, toHttpError } from '../errors.js';
import type { Access } from './access.js';
import { presentedKey } from './credentials.js';
import type { AuthFailureLimiter } from './failures.js';
import type { KeyStore, Principal } from './keys.js';

export interface AuthOptions {
  keys: KeyStore;
  /** API_AUTH=disabled: every caller acts as `anonymous` with every role. */
  disabled: boolean;
  /** Failed authentications per client address (API_AUTH_FAILURE_LIMIT); absent: not limited. */
  failures?: AuthFailureLimiter;
}

/** A wrong or malformed credential, as opposed to none at all (a browser before its challenge). */
class BadCredentialError extends ApiError {}

const ANONYMOUS: Principal = { name: 'anonymous', role: 'operator' };
const REALM = 'offboard';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function isBrowserRoute(access: Access): boolean {
  return 'challenge' in access && access.challenge === 'basic';
}

/**
 * Browsers attach cached Basic credentials to requests other sites make them send, and any web
 * page can make a browser send a bodyless POST without a preflight (to a loopback API with
 * API_AUTH=disabled too). So an action must not come from another site: Sec-Fetch-Site
 * `cross-site` or an Origin other than our own is refused on every route; on the browser routes
 * `same-site` as well. Server-to-server clients send neither header and are not affected.
 */
function crossSiteAction(request: FastifyRequest, browserRoute: boolean): boolean {
  if (SAFE_METHODS.has(request.method)) return false;
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || (browserRoute && site === 'same-site')) return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    const from = new URL(origin);
    // Parsing the Host header with the origin's scheme drops a default port on both sides.
    return from.host !== new URL(`${from.protocol}//${request.headers.host ?? ''}`).host;
  } catch {
    return true;
  }
}

function challenge(reply: FastifyReply, access: Access): void {
  const basic = isBrowserRoute(access);
  reply.header(
    'www-authenticate',
    basic ? `Basic realm="${REALM}", charset="UTF-8"` : `Bearer realm="${REALM}"`,
  );
}

/** Resolves the caller or throws 401; checks the role or throws 403. */
async function authorise(request: FastifyRequest, reply: FastifyReply, opts: AuthOptions): Promise<void> {
  const access = request.routeOptions.config.access;
  if (!access) {
    // 404s have no route; everything else must declare its access.
    if (request.is404) return;
    throw new ApiError(403, 'forbidden', 'this route declares no access policy');
  }
  if (crossSiteAction(request, isBrowserRoute(access) || 'session' in access)) {
    throw new ApiError(
      403,
      'cross_site',
      "cross-site request refused: actions must come from this API's own origin (Origin / Sec-Fetch-Site)",
    );
  }
  if ('public' in access) return;
  if (opts.disabled) {
    request.principal = ANONYMOUS;
    return;
  }
  if ('session' in access) {
    // Session routes (the console) take the cookie only: a header key is not looked at.
    const principal = await access.session.principal(request);
    if (!principal) throw new SignInRequiredError(access.session.signInPath);
    admit(request, reply, principal, access.roles);
    return;
  }
  const presented = presentedKey(request.headers);
  if (presented.kind !== 'key') {
    challenge(reply, access);
    if (presented.kind === 'none') throw new ApiError(401, 'unauthorized', 'an API key is required');
    throw new BadCredentialError(401, 'unauthorized', 'malformed Authorization header');
  }
  // HTTP Basic is for people in browsers only: on the JSON API it would make every operator
  // action reachable by cross-site requests riding on the browser's cached credentials.
  if (presented.scheme === 'basic' && !isBrowserRoute(access)) {
    challenge(reply, access);
    throw new BadCredentialError(
      401,
      'unauthorized',
      'use Authorization: Bearer <key> or X-API-Key on the API',
    );
  }
  const principal = opts.keys.resolve(presented.key);
  if (!principal) {
    challenge(reply, access);
    throw new BadCredentialError(401, 'unauthorized', 'invalid API key');
  }
  admit(request, reply, principal, access.roles);
}

function admit(
  request: FastifyRequest,
  reply: FastifyReply,
  principal: Principal,
  roles: readonly Role[],
): void {
  request.principal = principal;
  // Every later line of this request (including "request completed") names the key's owner.
  const log = request.log.child({ keyName: principal.name });
  request.log = log;
  reply.log = log;
  if (!roles.includes(principal.role)) {
    throw new ApiError(403, 'forbidden', `role ${principal.role} may not use this route`, {
      allowed: roles,
    });
  }
  // Deny by default: a route that does not filter by tenant would show a scoped key everyone's.
  if (principal.tenants && principal.tenants.length > 0 && !request.routeOptions.config.tenantAware) {
    throw new ApiError(
      403,
      'forbidden',
      "this route cannot be limited to a key's tenants: tenant-scoped keys may not use it",
    );
  }
}

/** A session route without a valid session: browsers asking for a page are sent to sign in. */
class SignInRequiredError extends ApiError {
  constructor(readonly location: string) {
    super(401, 'unauthorized', 'sign in to the console first');
  }
}

/**
 * Answers refusals from the hook itself rather than through an error handler: plugins such as
 * Bull Board install their own handlers, which must not reshape (or 500) an auth failure.
 */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const { failures } = opts;
  app.addHook('onRequest', async (request, reply) => {
    try {
      await authorise(request, reply, opts);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err instanceof SignInRequiredError && SAFE_METHODS.has(request.method)) {
        return reply.redirect(err.location, 303);
      }
      let refusal = err;
      // Only failures are throttled: a valid key is admitted above whatever its address did, so
      // one bad client behind a shared ingress address cannot lock everyone else out. Keys from
      // `offboard keys new` are 256-bit random, so answering a right guess with 200 teaches a brute-forcer nothing usable.
      if (err instanceof BadCredentialError && failures) {
        const blocked = await failures.blockedFor(request.ip);
        const waitMs = blocked > 0 ? blocked : await failures.record(request.ip);
        if (waitMs > 0) refusal = tooManyFailures(reply, waitMs);
      }
      request.log.info({ code: refusal.code, status: refusal.status }, 'request refused');
      return sendProblem(reply, request, toHttpError(refusal));
    }
  });
}

function tooManyFailures(reply: FastifyReply, waitMs: number): ApiError {
  const seconds = Math.ceil(waitMs / 1000);
  reply.removeHeader('www-authenticate').header('retry-after', String(seconds));
  return new ApiError(
    429,
    'auth_rate_limited',
    `too many failed authentications from this address, retry in ${seconds} s`,
  );
}
