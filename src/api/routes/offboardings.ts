// Reading one job and cancelling a pending one.
import type { FastifyPluginAsync } from 'fastify';
import { cancelJob } from '../../intake/cancel.js';
import { actorOf, OPERATOR, READ_JOB } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { jobView } from '../job-view.js';
import { AUTH_ERRORS, errors, idParams } from '../schemas/common.js';
import { cancelResult, jobView as jobViewSchema } from '../schemas/jobs.js';

export const offboardingRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/offboardings/:id',
    {
      config: { access: READ_JOB },
      schema: {
        summary: 'State, attempts, record and audit history of one job',
        tags: ['offboardings'],
        params: idParams,
        response: { 200: jobViewSchema, ...errors(400, ...AUTH_ERRORS, 404, 503) },
      },
    },
    async (request) => jobView(ctx, (request.params as { id: string }).id),
  );

  app.delete(
    '/v1/offboardings/:id',
    {
      config: { access: OPERATOR },
      schema: {
        summary: 'Cancel a pending (waiting or future-dated) job',
        tags: ['offboardings'],
        params: idParams,
        response: { 200: cancelResult, ...errors(400, ...AUTH_ERRORS, 404, 409, 503) },
      },
    },
    async (request) => cancelJob(ctx, (request.params as { id: string }).id, actorOf(request)),
  );
};
