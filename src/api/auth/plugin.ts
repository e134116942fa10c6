// The authentication and authorisation hook. Runs first on every request (onRequest), before the
// body is read, so an unauthenticated client cannot make the server parse megabytes of JSON.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../../config/api-keys.js';
import { ApiError, errorBody, toHttpError } from '../errors.js';
import type { Access } from './access.js';
import { presentedKey } from './credentials.js';
import type { KeyStore, Principal } from './keys.js';

export interface AuthOptions {
  keys: KeyStore;
  /** API_AUTH=disabled: every caller acts as `anonymous` with every role. */
  disabled: boolean;
}

const ANONYMOUS: Principal = { name: 'anonymous', role: 'operator' };
const REALM = 'offboard';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function isBrowserRoute(access: Access): boolean {
  return 'challenge' in access && access.challenge === 'basic';
}

/**
 * Browsers attach cached Basic credentials to requests other sites make them send, so on the
 * browser routes an action must come from our own pages (Sec-Fetch-Site / Origin).
 */
function crossSiteAction(request: FastifyRequest): boolean {
  if (SAFE_METHODS.has(request.method)) return false;
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
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
function authorise(request: FastifyRequest, reply: FastifyReply, opts: AuthOptions): void {
  const access = request.routeOptions.config.access;
  if (!access) {
    // 404s have no route; everything else must declare its access.
    if (request.is404) return;
    throw new ApiError(403, 'forbidden', 'this route declares no access policy');
  }
  if ('public' in access) return;
  if (isBrowserRoute(access) && crossSiteAction(request)) {
    throw new ApiError(403, 'cross_site', 'actions on the dashboard must come from its own pages');
  }
  if (opts.disabled) {
    request.principal = ANONYMOUS;
    return;
  }
  const presented = presentedKey(request.headers);
  if (presented.kind !== 'key') {
    challenge(reply, access);
    throw new ApiError(
      401,
      'unauthorized',
      presented.kind === 'none' ? 'an API key is required' : 'malformed Authorization header',
    );
  }
  // HTTP Basic is for people in browsers only: on the JSON API it would make every operator
  // action reachable by cross-site requests riding on the browser's cached credentials.
  if (presented.scheme === 'basic' && !isBrowserRoute(access)) {
    challenge(reply, access);
    throw new ApiError(401, 'unauthorized', 'use Authorization: Bearer <key> or X-API-Key on the API');
  }
  const principal = opts.keys.resolve(presented.key);
  if (!principal) {
    challenge(reply, access);
    throw new ApiError(401, 'unauthorized', 'invalid API key');
  }
  request.principal = principal;
  // Every later line of this request (including "request completed") names the key's owner.
  const log = request.log.child({ keyName: principal.name });
  request.log = log;
  reply.log = log;
  if (!(access.roles as readonly Role[]).includes(principal.role)) {
    throw new ApiError(403, 'forbidden', `role ${principal.role} may not use this route`, {
      allowed: access.roles,
    });
  }
}

/**
 * Answers refusals from the hook itself rather than through an error handler: plugins such as
 * Bull Board install their own handlers, which must not reshape (or 500) an auth failure.
 */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    try {
      authorise(request, reply, opts);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      request.log.info({ code: err.code, status: err.status }, 'request refused');
      return reply.status(err.status).send(errorBody(toHttpError(err)));
    }
  });
}
