// The OpenAPI 3.1 document, built by @fastify/swagger from the route schemas Fastify validates
// with, served as JSON at /docs/json and as Swagger UI at /docs (public: it holds no secrets).
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { PUBLIC } from '../auth/access.js';

export const DOCS = '/docs';

/** Call before any route is registered: the document collects routes as they are added. */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'offboard API',
        version,
        description:
          "Retire leavers' devices from Intune through a durable, throttle-aware queue. Authenticate with " +
          '`Authorization: Bearer <API key>` (or `X-API-Key`). Errors are `{error:{code,message,details?}}`.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'API key (obk_…)' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          basic: {
            type: 'http',
            scheme: 'basic',
            description: 'Browsers: any user name, the API key as password',
          },
        },
      },
      security: [{ apiKey: [] }, { apiKeyHeader: [] }],
      tags: [
        { name: 'intake', description: 'Hand over leavers (producer keys)' },
        { name: 'offboardings', description: 'Jobs' },
        { name: 'queues', description: 'Queue state, pause and resume' },
        { name: 'dead-letters', description: 'Jobs that need a human' },
        { name: 'batches', description: 'Bulk submissions held by the mass-change guard' },
        { name: 'health', description: 'Probes and metrics' },
        {
          name: 'ui',
          description: 'Pages for people: status page and Bull Board (HTTP Basic, password = API key)',
        },
      ],
    },
  });
}

/** Swagger UI and the JSON document, in their own scope so their routes are public. */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), access: PUBLIC } as typeof route.config;
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS,
    uiConfig: { validatorUrl: null },
    // Swagger UI's own scripts and styles only; no upgrade-insecure-requests (plain-http clusters).
    staticCSP:
      "default-src 'self'; base-uri 'self'; font-src 'self' data:; frame-ancestors 'none'; img-src 'self' data:; " +
      "object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'",
  });
}
