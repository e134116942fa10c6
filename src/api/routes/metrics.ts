// Prometheus exposition: the API's own series plus the fleet's, read from Redis at scrape time.
import type { FastifyPluginAsync } from 'fastify';
import { VIEWER } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { scopedExposition } from '../metrics/tenants.js';
import { AUTH_ERRORS, errors } from '../schemas/common.js';

export const metricsRoutes: FastifyPluginAsync<ApiDeps> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      config: { access: VIEWER, redisOptional: true, rateLimit: false, tenantAware: true },
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
    async (request, reply) => {
      const all = await metrics.registry.metrics();
      const scope = request.principal?.tenants;
      const body = scope && scope.length > 0 ? scopedExposition(all, scope) : all;
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
};
