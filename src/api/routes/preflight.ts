// GET /v1/preflight (operators): the read-only go-live checks of `offboard preflight`, as JSON. It is
// the one API route that calls Graph (GETs only, through the read pacer, with a token from the
// product's own provider), so it is an operator's and runs once at a time per process.
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../../log.js';
import { runPreflight } from '../../preflight/run.js';
import { saveReport } from '../../preflight/store.js';
import type { PreflightReport } from '../../preflight/types.js';
import type { QueueContext } from '../../queue/context.js';
import { InvalidUserError, normaliseUser } from '../../values/user.js';
import { actorOf, OPERATOR } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { AUTH_ERRORS, errors } from '../schemas/common.js';
import { preflightQuery, preflightReport } from '../schemas/preflight.js';

/** A token request, a few paced reads, each bounded by GRAPH_TIMEOUT: longer than the API's default. */
const PREFLIGHT_TIMEOUT_MS = 180_000;

/** Runs at most one preflight per user at a time in this process; callers asking meanwhile share it. */
export function createPreflightRunner(ctx: QueueContext, logger: Logger) {
  const running = new Map<string, Promise<PreflightReport>>();
  return (user: string | undefined, actor: string): Promise<PreflightReport> => {
    const key = user ?? '';
    const existing = running.get(key);
    if (existing) return existing;
    const run = runPreflight({
      config: ctx.config,
      redis: ctx.redis,
      queueConnection: ctx.queueConnection,
      prefix: ctx.prefix,
      logger,
      ...(user ? { user } : {}),
    })
      .then(async (report) => {
        await saveReport(ctx.redis, ctx.prefix, { ...report, actor });
        return report;
      })
      .finally(() => running.delete(key));
    running.set(key, run);
    return run;
  };
}

export function parseUser(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    return normaliseUser(raw);
  } catch (err) {
    if (err instanceof InvalidUserError) throw new ApiError(400, 'invalid_user', err.message);
    throw err;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The process's one preflight runner (route and console share it). */
    preflight: ReturnType<typeof createPreflightRunner>;
  }
}

export const preflightRoutes: FastifyPluginAsync<ApiDeps> = async (app) => {
  app.get(
    '/v1/preflight',
    {
      config: { access: OPERATOR },
      handlerTimeout: PREFLIGHT_TIMEOUT_MS,
      schema: {
        summary: 'Read-only go-live checks: token, permissions, each Graph read, Redis, queues, circuit',
        description:
          'The checks of `offboard preflight`. Sends only GETs to Graph, through the read pacer; changes no queue. `ok` false: at least one needed check failed.',
        tags: ['health'],
        querystring: preflightQuery,
        response: { 200: preflightReport, ...errors(400, ...AUTH_ERRORS, 503) },
      },
    },
    async (request) => {
      const user = parseUser((request.query as { user?: string }).user);
      return app.preflight(user, actorOf(request));
    },
  );
};
