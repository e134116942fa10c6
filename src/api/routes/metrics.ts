// Prometheus exposition: the API's own series plus the fleet's, read from Redis at scrape time.
import type { FastifyPluginAsync } from 'fastify';
import { VIEWER } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { AUTH_ERRORS, errors } from '../schemas/common.js';

export const metricsRoutes: FastifyPluginAsync<ApiDeps> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      config: { access: VIEWER, redisOptional: true, rateLimit: false },
      logLevel: 'warn',
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['health'],
        produces: ['text/plain'],
        response: {
          200: { type: 'string', description: 'Prometheus text format 0.0.4' },
          ...errors(...AUTH_ERRORS),
        },
      },
    },
    async (_request, reply) => {
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
};
