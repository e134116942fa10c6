// The OpenAPI 3.1 document, built by @fastify/swagger from the route schemas Fastify validates
// with, served as JSON at /docs/json and as Swagger UI at /docs (public: it holds no secrets).
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ROLES } from '../../config/api-keys.js';
import { PUBLIC } from '../auth/access.js';
import { withNamedComponents } from '../openapi/components.js';

export const DOCS = '/docs';

/**
 * A stable camelCase operation id from method and URL, for generated clients: `GET /v1/offboardings/:id`
 * → `getOffboardingsById`, `POST /v1/dead-letters/:id/redrive` → `postDeadLettersByIdRedrive`,
 * `GET /` → `getRoot`. The current API version (`v1`) is left out; any other version stays in.
 */
export function operationIdFor(method: string, url: string): string {
  const segments = url.split('/').filter(Boolean);
  if (segments[0] === 'v1') segments.shift();
  const words = segments.flatMap((seg) =>
    (seg.startsWith(':') ? `by-${seg.slice(1)}` : seg).split(/[^A-Za-z0-9]+/).filter(Boolean),
  );
  if (words.length === 0) words.push('root');
  const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  return [method.toLowerCase(), ...words.map(cap)].join('');
}

const RATE_LIMIT_HEADERS = {
  ratelimit: {
    type: 'string',
    description:
      'IETF draft-ietf-httpapi-ratelimit-headers: the key\'s remaining quota and seconds until it refills, e.g. `"api";r=57;t=42`',
  },
  'ratelimit-policy': {
    type: 'string',
    description:
      'IETF draft-ietf-httpapi-ratelimit-headers: quota per window in seconds, e.g. `"api";q=60;w=60`',
  },
  'x-ratelimit-limit': { type: 'integer', description: 'Requests allowed per minute for this API key' },
  'x-ratelimit-remaining': { type: 'integer', description: 'Requests left in the current minute' },
  'x-ratelimit-reset': { type: 'integer', description: 'Seconds until the budget refills' },
} as const;

const LOCATION = {
  location: {
    type: 'string',
    description:
      'Where to read what was stored: the job (/v1/offboardings/{id}) or the held batch (/v1/batches/{id})',
  },
} as const;

const IDEMPOTENT_REPLAYED = {
  'idempotent-replayed': {
    type: 'string',
    enum: ['true'],
    description:
      'Present when this answer is the stored answer to an earlier request with the same Idempotency-Key',
  },
} as const;

/** Response headers the API sends, added to each documented response (copies: schemas are shared). */
function withHeaders(route: RouteOptions): Record<string, unknown> | undefined {
  const response = route.schema?.response as Record<string, Record<string, unknown>> | undefined;
  if (!response) return undefined;
  const limited = route.config?.rateLimit !== false;
  const out: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(response)) {
    const code = Number(status);
    const headers: Record<string, unknown> = { ...((schema.headers as object | undefined) ?? {}) };
    if (limited && code < 500) Object.assign(headers, RATE_LIMIT_HEADERS);
    if (limited && code === 429) {
      headers['retry-after'] = { type: 'integer', description: 'Seconds to wait before trying again' };
    }
    if (code === 202) Object.assign(headers, LOCATION);
    if (route.config?.idempotent && code < 300) Object.assign(headers, IDEMPOTENT_REPLAYED);
    out[status] = Object.keys(headers).length > 0 ? { ...schema, headers } : schema;
  }
  return out;
}

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
          '`Authorization: Bearer <API key>` (or `X-API-Key`). Errors are RFC 9457 problem details ' +
          '(`application/problem+json`: type, title, status, detail, instance, code, details) that also carry ' +
          'the original `{error:{code,message,details?}}` object. Every body is a named schema under ' +
          '`components.schemas`, so generators (openapi-typescript, openapi-generator) produce typed clients.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: '/', description: 'This server (the document is served by the API it describes)' }],
      components: {
        schemas: {
          Role: {
            type: 'string',
            enum: [...ROLES],
            description: 'An API key role; each operation lists its own as x-roles',
          },
        },
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
        {
          name: 'tenants',
          description: 'Per-tenant circuit, gate and pace; resume one tenant (TENANTS_FILE)',
        },
        { name: 'dead-letters', description: 'Jobs that need a human' },
        { name: 'batches', description: 'Bulk submissions held by the mass-change guard' },
        { name: 'health', description: 'Probes and metrics' },
        {
          name: 'ui',
          description: 'Pages for people: status page and Bull Board (HTTP Basic, password = API key)',
        },
      ],
    },
    // Named component schemas for generated clients (../openapi/components.ts).
    transformObject: (document) =>
      withNamedComponents((document as { openapiObject: Record<string, unknown> }).openapiObject) as never,
  });
  // Every operation gets an operationId (unless it names its own) and its response headers.
  app.addHook('onRoute', (route) => {
    if (typeof route.method !== 'string' || route.method === 'HEAD') return;
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    const response = withHeaders(route);
    const access = route.config?.access;
    route.schema = {
      ...schema,
      // The API key roles that may call the operation (values of the Role schema).
      ...(access && 'roles' in access ? { 'x-roles': [...access.roles] } : {}),
      operationId: (schema.operationId as string | undefined) ?? operationIdFor(route.method, route.url),
      ...(response ? { response } : {}),
    } as typeof route.schema;
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
