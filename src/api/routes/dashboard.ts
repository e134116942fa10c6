// Bull Board for both queues behind HTTP Basic (any user name, password = an API key). Viewers and
// operators get different boards: `/dashboard/viewer/` is read-only, `/dashboard/operator/` adds
// pause and resume of the retire queue, through our audited control functions. `/dashboard` sends
// each role to its board. Deny by default (../dashboard/policy.ts): every route Bull Board registers
// is classified when it is registered, and only reads are served by Bull Board itself.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { pauseQueue, resumeQueue } from '../../control/queue-control.js';
import { RETIRE_QUEUE } from '../../queue/names.js';
import { type Access, actorOf, VIEWER_BROWSER } from '../auth/access.js';
import { type Board, dashboardRoutePolicy, type RoutePolicy } from '../dashboard/policy.js';
import type { ApiDeps } from '../deps.js';
import { sendProblem } from '../errors.js';

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

/** One route as a board registered it, with the policy it got: the tests enumerate these. */
export interface BoardRoute {
  board: Board;
  methods: string[];
  path: string;
  policy: RoutePolicy['kind'];
}

function refuse(reply: FastifyReply, request: FastifyRequest, why: string) {
  return sendProblem(reply, request, { status: 403, code: 'dashboard_refused', message: why });
}

function boardScope(
  deps: ApiDeps,
  opts: { board: Board; prefix: string; access: Access; registered: BoardRoute[] },
) {
  return async (scope: FastifyInstance) => {
    // Every route Bull Board registers (pages, its JSON API, static files) gets our access policy,
    // CSP and a classification; none of them belongs in the OpenAPI document. Routes that are not
    // reads get our handler instead of Bull Board's, so its own action code never runs.
    scope.addHook('onRoute', (route) => {
      route.config = {
        ...(route.config ?? {}),
        access: opts.access,
        helmet: DASHBOARD_CSP,
      } as typeof route.config;
      route.schema = { ...(route.schema ?? {}), hide: true } as typeof route.schema;
      const methods = ([] as string[]).concat(route.method as string | string[]);
      const path = route.url.startsWith(opts.prefix) ? route.url.slice(opts.prefix.length) : route.url;
      const policy = dashboardRoutePolicy(opts.board, methods, path);
      opts.registered.push({ board: opts.board, methods, path, policy: policy.kind });
      if (policy.kind === 'read') return;
      route.handler = async (request: FastifyRequest, reply: FastifyReply) => {
        const actor = actorOf(request);
        const { queueName } = (request.params ?? {}) as { queueName?: string };
        if (policy.kind === 'deny' || queueName !== RETIRE_QUEUE) {
          const why = policy.kind === 'deny' ? policy.why : 'only the retire queue can be paused or resumed';
          scope.log.warn(
            { actor, board: opts.board, method: request.method, path },
            'dashboard action refused',
          );
          return refuse(reply, request, why);
        }
        // Same function, effect and audit entry as POST /v1/queues/retire/pause|resume.
        if (policy.kind === 'pause') await pauseQueue(deps.ctx, actor, 'paused from the dashboard');
        else await resumeQueue(deps.ctx, actor);
        return reply.send({});
      };
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(opts.prefix);
    const readOnly = opts.board === 'viewer';
    const queues = [deps.ctx.retire, deps.ctx.deadLetter].map(
      (q) =>
        new BullMQAdapter(q as unknown as Queue, {
          readOnlyMode: readOnly,
          // The retry buttons would re-run finished or dead-lettered leavers outside intake: hidden.
          allowRetries: false,
        }),
    );
    createBullBoard({
      queues,
      serverAdapter,
      options: {
        uiConfig: {
          boardTitle: readOnly ? 'offboard (read-only)' : 'offboard (operator)',
          hideDocsLink: true,
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
  // Decorated on the root by app.ts, so the list is visible outside this encapsulated plugin.
  const registered = app.dashboardRoutes;
  await app.register(
    boardScope(deps, { board: 'viewer', prefix: `${DASHBOARD}/viewer`, access: VIEWER_BROWSER, registered }),
  );
  await app.register(
    boardScope(deps, {
      board: 'operator',
      prefix: `${DASHBOARD}/operator`,
      access: OPERATOR_BROWSER,
      registered,
    }),
  );
};

declare module 'fastify' {
  interface FastifyInstance {
    /** Every Bull Board route on both boards with its policy (what the route-enumeration test reads). */
    dashboardRoutes: BoardRoute[];
  }
}
