// Sign-in with an API key, and sign-out. A wrong key counts against the same per-address failure
// budget as the API (API_AUTH_FAILURE_LIMIT); a valid key is never throttled. Sign-out is recorded in
// Redis, so it ends the session everywhere (session.ts). A successful sign-in starts a fresh session (new
// CSRF token, nothing kept from before), so a session planted before sign-in is worth nothing.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../../../config/api-keys.js';
import { ownKey } from '../../../queue/names.js';
import { createAuthFailureLimiter } from '../../auth/failures.js';
import { sha256Hex } from '../../auth/keys.js';
import type { ConsoleEnv } from '../env.js';
import { html } from '../html.js';
import { bare, homeOf } from '../layout.js';
import { newToken, readSession, recordSignOut } from '../session.js';
import { formBody } from './forms.js';

function signInPage(csrf: string, message?: string, disabled = false) {
  return bare(
    'Sign in',
    html`<div class="signin">
<h1>offboard console</h1>
${message ? html`<p class="flash error" role="alert">${message}</p>` : ''}
<form class="stack" method="post" action="/console/sign-in">
<input type="hidden" name="_csrf" value="${csrf}">
${
  disabled
    ? html`<p>API_AUTH is disabled on this loopback-only API: you act as <strong>anonymous</strong> with every role.</p>`
    : html`<div class="field"><label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" required maxlength="256" aria-describedby="key-help">
<small id="key-help" class="muted">A viewer key reads; an operator key also acts; a producer key submits leavers. Actions are recorded under the key's name.</small></div>`
}
<button class="primary" type="submit">Sign in</button>
</form></div>`,
  );
}

export const signInPages: FastifyPluginAsync<ConsoleEnv> = async (app, env) => {
  const { ctx, config, keys, authDisabled } = env.deps;
  const failures = createAuthFailureLimiter(
    ctx.redis,
    ownKey(ctx.prefix, 'auth-failures'),
    config.api.authFailureLimit,
  );

  const show = (request: FastifyRequest, reply: FastifyReply, status: number, message?: string) => {
    let csrf = readSession(request.session).csrf;
    if (!csrf) {
      csrf = newToken();
      request.session.set('csrf', csrf);
    }
    return reply
      .status(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(signInPage(csrf, message, authDisabled));
  };

  app.get('/console/sign-in', { config: env.open, schema: { hide: true } }, async (request, reply) =>
    show(request, reply, 200),
  );

  app.post(
    '/console/sign-in',
    {
      config: env.open,
      schema: { hide: true, body: formBody({ key: { type: 'string', maxLength: 256 } }) },
    },
    async (request, reply) => {
      const { key = '' } = request.body as { key?: string };
      let subject: { sub: string; name: string; role: Role; tenants?: readonly string[] };
      if (authDisabled) {
        subject = { sub: 'anonymous', name: 'anonymous', role: 'operator' };
      } else {
        // A valid key always signs in; only failures are throttled (as on the API).
        const principal = keys.resolve(key.trim());
        if (!principal) {
          const waitMs = await failures.blockedFor(request.ip);
          if (waitMs > 0) {
            reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
            return show(
              request,
              reply,
              429,
              `Too many failed sign-ins from this address; try again in ${Math.ceil(waitMs / 1000)} s.`,
            );
          }
          await failures.record(request.ip);
          request.log.info({ code: 'unauthorized' }, 'console sign-in refused');
          return show(request, reply, 401, 'That API key is not valid.');
        }
        subject = { sub: sha256Hex(key.trim()), ...principal };
      }
      // A fresh session: nothing from before sign-in survives, the CSRF token included.
      request.session.regenerate();
      request.session.set('sub', subject.sub);
      request.session.set('exp', Date.now() + env.sessionTtlMs);
      request.session.set('sid', newToken());
      request.session.set('csrf', newToken());
      request.log.info({ keyName: subject.name, role: subject.role }, 'console sign-in');
      return reply.redirect(homeOf(subject.role, (subject.tenants?.length ?? 0) > 0), 303);
    },
  );

  app.post(
    '/console/sign-out',
    { config: env.signedIn, schema: { hide: true, body: formBody({}) } },
    async (request, reply) => {
      // Every copy of this cookie stops working, not just the one in this browser.
      await recordSignOut(ctx.redis, ctx.prefix, readSession(request.session));
      request.session.delete();
      return reply.redirect('/console/sign-in', 303);
    },
  );
};
