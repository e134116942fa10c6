// Bull Board for both queues behind HTTP Basic (any user name, password = an API key). Viewers and
// operators get different boards: `/dashboard/viewer/` is read-only (Bull Board refuses every
// action server-side), `/dashboard/operator/` is the full board. `/dashboard` sends each role to
// its board. On the operator board, pause and resume go through our audited control functions,
// and actions that would bypass intake validation or destroy records wholesale are refused.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { pauseQueue, resumeQueue } from '../../queue/control.js';
import { RETIRE_QUEUE } from '../../queue/names.js';
import { type Access, VIEWER_BROWSER } from '../auth/access.js';
import { presentedKey } from '../auth/credentials.js';
import type { ApiDeps } from '../deps.js';

export const DASHBOARD = '/dashboard';
const OPERATOR_BROWSER: Access = { roles: ['operator'], challenge: 'basic' };

/** Bull Board needs its own scripts and styles; nothing from other origins (no font CDN). */
const DASHBOARD_CSP = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
};

/** Operator-board actions refused: they bypass intake validation or drop records without audit. */
const REFUSED = new Set([
  '/api/queues/:queueName/add',
  '/api/queues/:queueName/:jobId/update-data',
  '/api/queues/:queueName/empty',
  '/api/queues/:queueName/obliterate',
  '/api/queues/:queueName/clean/:queueStatus',
]);

function boardScope(deps: ApiDeps, opts: { readOnly: boolean; prefix: string; access: Access }) {
  return async (scope: FastifyInstance) => {
    // Every route Bull Board registers (pages, its JSON API, static files) gets our access policy
    // and CSP; none of them belongs in the OpenAPI document.
    scope.addHook('onRoute', (route) => {
      route.config = {
        ...(route.config ?? {}),
        access: opts.access,
        helmet: DASHBOARD_CSP,
      } as typeof route.config;
      route.schema = { ...(route.schema ?? {}), hide: true } as typeof route.schema;
    });
    const actor = (headers: Record<string, unknown>) => {
      if (deps.authDisabled) return 'anonymous';
      const p = presentedKey(headers as never);
      return (p.kind === 'key' && deps.keys.resolve(p.key)?.name) || 'unknown';
    };
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(opts.prefix);
    const queues = [deps.ctx.retire, deps.ctx.deadLetter].map(
      (q) =>
        new BullMQAdapter(q as unknown as Queue, {
          readOnlyMode: opts.readOnly,
          allowRetries: !opts.readOnly,
        }),
    );
    createBullBoard({
      queues,
      serverAdapter,
      options: {
        uiConfig: {
          boardTitle: opts.readOnly ? 'offboard (read-only)' : 'offboard (operator)',
          hideDocsLink: true,
        },
        handlerHooks: {
          before: ({ method, route, request }) => {
            if (method === 'get') return;
            const who = actor(request.headers);
            if (REFUSED.has(route)) {
              scope.log.warn({ actor: who, route, params: request.params }, 'dashboard action refused');
              return {
                allow: false,
                status: 403,
                message: 'not allowed from the dashboard; use the API or CLI',
              };
            }
          },
          after: async ({ method, route, request }, result) => {
            if (method === 'get' || (result.status ?? 200) >= 400) return result;
            const who = actor(request.headers);
            const queueName = (request.params as { queueName?: string }).queueName;
            scope.log.info({ actor: who, route, params: request.params }, 'dashboard action');
            const retire = queueName === RETIRE_QUEUE || queueName === undefined;
            // Same effect and audit trail as POST /v1/queues/retire/pause|resume.
            if (retire && route.endsWith('/pause'))
              await pauseQueue(deps.ctx, who, 'paused from the dashboard');
            if (retire && route.endsWith('/resume')) await resumeQueue(deps.ctx, who);
            return result;
          },
        },
      },
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: opts.prefix });
  };
}

export const dashboardRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const redirect = {
    config: { access: VIEWER_BROWSER },
    schema: {
      summary: 'Bull Board: redirects viewers to the read-only board, operators to the full one',
      tags: ['ui'],
      security: [{ basic: [] }],
      response: {
        302: { type: 'null', description: 'Redirect to /dashboard/viewer/ or /dashboard/operator/' },
      },
    },
  };
  const hidden = { ...redirect, schema: { hide: true } };
  const toBoard = async (
    request: { principal?: { role: string } },
    reply: { redirect(url: string): unknown },
  ) => reply.redirect(`${DASHBOARD}/${request.principal?.role === 'operator' ? 'operator' : 'viewer'}/`);
  app.get(DASHBOARD, redirect, toBoard as never);
  app.get(`${DASHBOARD}/`, hidden, toBoard as never);
  await app.register(
    boardScope(deps, { readOnly: true, prefix: `${DASHBOARD}/viewer`, access: VIEWER_BROWSER }),
  );
  await app.register(
    boardScope(deps, { readOnly: false, prefix: `${DASHBOARD}/operator`, access: OPERATOR_BROWSER }),
  );
};
