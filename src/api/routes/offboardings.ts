// Reading jobs (one by id, or all of one leaver) and cancelling a pending one. A producer key
// reads only the requests it made; viewers and operators read every job.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { cancelJob } from '../../intake/cancel.js';
import { findUserJobs } from '../../records/user-jobs.js';
import { InvalidUserError, normaliseUser } from '../../values/user.js';
import { actorOf, OPERATOR, READ_JOB } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { type JobView, jobView } from '../job-view.js';
import { AUTH_ERRORS, errors, idParams, noteQuery } from '../schemas/common.js';
import { cancelResult, jobView as jobViewSchema } from '../schemas/jobs.js';
import { userField } from '../schemas/offboarding.js';

const userQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['user'],
  properties: {
    user: userField,
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 20,
      description: 'Most recent jobs returned',
    },
  },
} as const;

/** A producer sees its own requests only; to it, anyone else's job does not exist. */
function visibleTo(request: FastifyRequest, view: JobView): boolean {
  return request.principal?.role !== 'producer' || view.data.requestedBy === actorOf(request);
}

export const offboardingRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/offboardings',
    {
      config: { access: READ_JOB },
      schema: {
        summary: 'The jobs of one leaver, newest first (a producer key sees only its own requests)',
        tags: ['offboardings'],
        querystring: userQuery,
        response: {
          200: {
            title: 'JobList',
            type: 'object',
            required: ['user', 'items'],
            properties: {
              user: { type: 'string', description: 'The user, normalised (lower case)' },
              items: { type: 'array', items: jobViewSchema },
            },
          },
          ...errors(400, ...AUTH_ERRORS, 503),
        },
      },
    },
    async (request) => {
      const q = request.query as { user: string; limit: number };
      let user: string;
      try {
        user = normaliseUser(q.user);
      } catch (err) {
        if (err instanceof InvalidUserError) throw new ApiError(400, 'invalid_request', err.message);
        throw err;
      }
      // A UPN also finds jobs keyed by the object ids it is known to have (records/user-jobs.ts).
      const { ids, history, users } = await findUserJobs(ctx, user);
      const views: JobView[] = [];
      for (const id of ids) {
        try {
          views.push(await jobView(ctx, id, { history }));
        } catch (err) {
          // A job named in the history may have aged out of retention since.
          if (!(err instanceof ApiError && err.status === 404)) throw err;
        }
      }
      const items = views
        .filter((v) => users.includes(v.user) && visibleTo(request, v))
        .sort((a, b) => (b.timestamps.createdAt ?? '').localeCompare(a.timestamps.createdAt ?? ''))
        .slice(0, q.limit);
      return { user, items };
    },
  );

  app.get(
    '/v1/offboardings/:id',
    {
      config: { access: READ_JOB },
      schema: {
        summary:
          'State, attempts, record and audit history of one job (a producer key: its own requests only)',
        tags: ['offboardings'],
        params: idParams,
        response: { 200: jobViewSchema, ...errors(400, ...AUTH_ERRORS, 404, 503) },
      },
    },
    async (request) => {
      const id = (request.params as { id: string }).id;
      const view = await jobView(ctx, id);
      if (!visibleTo(request, view)) throw new ApiError(404, 'not_found', `no offboarding job with id ${id}`);
      return view;
    },
  );

  app.delete(
    '/v1/offboardings/:id',
    {
      config: { access: OPERATOR },
      schema: {
        summary: 'Cancel a pending (waiting or future-dated) job',
        tags: ['offboardings'],
        params: idParams,
        querystring: noteQuery,
        response: { 200: cancelResult, ...errors(400, ...AUTH_ERRORS, 404, 409, 503) },
      },
    },
    async (request) => {
      const { note } = request.query as { note?: string };
      return cancelJob(ctx, (request.params as { id: string }).id, actorOf(request), note);
    },
  );
};
