// The operator console at /console: server-rendered pages over the same library functions the API
// routes call, signed in with an API key. Authentication and roles stay with the API's one auth
// hook (deny by default): every console route declares `access` with `session`, which makes that
// hook take the principal from the encrypted session cookie instead of a header. Only the sign-in
// page and the stylesheet are public. Every POST carries the session's CSRF token.
import secureSession from '@fastify/secure-session';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { TwoPersonRuleError } from '../../guard/errors.js';
import type { Access, SessionAuth } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, type HttpError, REDIS_UNAVAILABLE, toHttpError } from '../errors.js';
import { CONSOLE_CSP } from './csp.js';
import type { ConsoleEnv } from './env.js';
import { html } from './html.js';
import { bare, csrfField, layout, type View } from './layout.js';
import { batchPages } from './pages/batches.js';
import { deadLetterPages } from './pages/dead-letters.js';
import { lookupPages } from './pages/lookup.js';
import { overviewPages } from './pages/overview.js';
import { preflightPages } from './pages/preflight.js';
import { schedulePages } from './pages/schedules.js';
import { signInPages } from './pages/sign-in.js';
import { submitPages } from './pages/submit.js';
import { tenantPages } from './pages/tenants.js';
import {
  COOKIE_NAME,
  COOKIE_PATH,
  type ConsoleSession,
  isSignedOut,
  newToken,
  overTls,
  principalByDigest,
  readSession,
  sameToken,
  sessionKey,
} from './session.js';
import { CSS, CSS_ETAG } from './style.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const FORM_LIMIT_BYTES = 64 * 1024;

function ensureCsrf(request: FastifyRequest): string {
  let csrf = readSession(request.session).csrf;
  if (!csrf) {
    csrf = newToken();
    request.session.set('csrf', csrf);
  }
  return csrf;
}

/** The text an operator reads when an action is refused; the two-person rule gets its own words. */
export function refusalText(err: unknown, e: HttpError, actor: string): string {
  if (err instanceof TwoPersonRuleError) {
    return `Refused by the two-person rule: you (${actor}) submitted batch ${err.id}, so another operator must approve it.`;
  }
  return e.message;
}

export const consoleRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const { ctx, config } = deps;
  const key = sessionKey(config.console.sessionKey);
  if (!key.configured) {
    app.log.warn(
      'CONSOLE_SESSION_KEY is not set: console sessions use a key generated at start, so they end when this process restarts and are not shared between API replicas',
    );
  }
  const ttlSeconds = Math.max(60, Math.floor(config.console.sessionTtlMs / 1000));
  await app.register(secureSession, {
    key: key.key,
    cookieName: COOKIE_NAME,
    expiry: ttlSeconds,
    cookie: { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict', maxAge: ttlSeconds },
  });

  const sessionAuth: SessionAuth = {
    signInPath: '/console/sign-in',
    async principal(request) {
      // The API's auth hook runs before this context's cookie hooks: decode from the header here.
      let data: ConsoleSession;
      try {
        const raw = app.parseCookie(request.headers.cookie ?? '')[COOKIE_NAME];
        data = readSession(raw ? app.decodeSecureSession(raw, request.log) : null);
      } catch {
        return null;
      }
      if (!data.sub || !data.exp || !data.sid || data.exp <= Date.now()) return null;
      const principal = principalByDigest(config.api.keys, data.sub);
      if (!principal) return null;
      let signedOut: boolean;
      try {
        signedOut = await isSignedOut(ctx.redis, ctx.prefix, data.sid);
      } catch {
        // Fail closed: without Redis a signed-out copy of the cookie cannot be told apart.
        throw new ApiError(REDIS_UNAVAILABLE.status, REDIS_UNAVAILABLE.code, REDIS_UNAVAILABLE.message);
      }
      return signedOut ? null : principal;
    },
  };
  const route = (access: Access) => ({ access, helmet: CONSOLE_CSP });
  const env: ConsoleEnv = {
    deps,
    view: route({ roles: ['viewer', 'operator'], session: sessionAuth }),
    act: route({ roles: ['operator'], session: sessionAuth }),
    submit: route({ roles: ['producer'], session: sessionAuth }),
    signedIn: route({ roles: ['viewer', 'operator', 'producer'], session: sessionAuth }),
    open: route({ public: true }),
    sessionTtlMs: ttlSeconds * 1000,
    flash: (request, flash) => request.session.set('flash', flash),
    csrf: (request) => csrfField({ csrf: ensureCsrf(request) }),
    operator: (request) => request.principal?.role === 'operator',
    render(request, reply, title, body, opts) {
      const data = readSession(request.session);
      const csrf = ensureCsrf(request);
      if (data.flash) request.session.set('flash', undefined);
      const view: View = {
        principal: request.principal ?? { name: 'anonymous', role: 'viewer' },
        csrf,
        path: request.url.split('?')[0] ?? '/console',
        ...(env.deps.config.tenants?.length ? { tenants: true } : {}),
        ...(data.flash ? { flash: data.flash } : {}),
      };
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(layout(view, title, body, opts));
    },
    async act$(request, reply, back, run) {
      try {
        env.flash(request, { kind: 'ok', text: await run() });
      } catch (err) {
        const e = toHttpError(err, ctx.redis);
        if (e.status >= 500) throw err;
        request.log.info({ code: e.code, status: e.status }, 'console action refused');
        env.flash(request, { kind: 'error', text: refusalText(err, e, request.principal?.name ?? '') });
      }
      return reply.redirect(back, 303);
    },
  };

  // Forms post application/x-www-form-urlencoded; only the console parses it.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES },
    (_request, body, done) => {
      const out: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(body as string)) out[k] = v;
      done(null, out);
    },
  );

  app.addHook('onRequest', async (request) => {
    // Secure when the console is reached over TLS; plain http (a laptop, a port-forward) still works.
    request.session.options({ secure: overTls(request) });
  });

  // CSRF: every state-changing request must post the session's token (checked before the body
  // is validated or anything runs). The API's auth hook has already refused other sites.
  app.addHook('preValidation', async (request) => {
    if (SAFE_METHODS.has(request.method)) return;
    const sent = (request.body as Record<string, unknown> | undefined)?._csrf;
    if (!sameToken(sent, readSession(request.session).csrf)) {
      throw new ApiError(
        403,
        'csrf',
        'This form is missing its security token or the token is out of date. Reload the page and try again.',
      );
    }
  });

  app.setErrorHandler((err, request, reply) => {
    const e = toHttpError(err, ctx.redis);
    if (e.status >= 500) request.log.error({ err }, 'console request failed');
    else request.log.info({ code: e.code, status: e.status }, 'console request refused');
    if (e.status === 503) reply.header('retry-after', '5');
    return reply
      .status(e.status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(errorPage(e));
  });

  app.get(
    '/console/assets/console.css',
    { config: env.open, schema: { hide: true } },
    async (request, reply) => {
      reply
        .type('text/css; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .header('etag', CSS_ETAG);
      if (request.headers['if-none-match'] === CSS_ETAG) return reply.status(304).send();
      return CSS;
    },
  );

  await registerPages(app, env);
};

async function registerPages(app: FastifyInstance, env: ConsoleEnv): Promise<void> {
  await app.register(signInPages, env);
  await app.register(overviewPages, env);
  await app.register(preflightPages, env);
  await app.register(lookupPages, env);
  await app.register(batchPages, env);
  await app.register(deadLetterPages, env);
  await app.register(schedulePages, env);
  await app.register(submitPages, env);
  await app.register(tenantPages, env);
}

function errorPage(e: HttpError): string {
  return bare(
    `Error ${e.status}`,
    html`<div class="signin"><h1>${e.status === 403 ? 'Refused' : 'Something went wrong'}</h1>
<p class="flash error" role="alert">${e.message}</p>
<p><a href="/console">Back to the console</a></p></div>`,
  );
}
