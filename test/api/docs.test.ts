// The OpenAPI document is valid OpenAPI 3.1, lists every API route with its schemas, and is served
// with Swagger UI at /docs. It is generated from the same schemas Fastify validates with.
// biome-ignore-all lint/suspicious/noExplicitAny: the document is JSON read like res.json()
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/config/api-keys.js';
import {
  DEAD_LETTER_REASONS,
  DEVICE_RESULTS,
  JOB_STATES,
  OUTCOMES,
  VERIFICATION_STATES,
} from '../../src/interfaces.js';
import { KEYS, type TestApi, testApp } from './helpers.js';

let t: TestApi;

/** Follows a local `$ref` (`#/components/schemas/X`) to the schema it names. */
function deref(doc: { components: { schemas: Record<string, any> } }, schema: { $ref?: string }) {
  const name = schema.$ref?.replace('#/components/schemas/', '');
  return name ? doc.components.schemas[name] : schema;
}

beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const ROUTES = [
  'post /v1/offboardings',
  'post /v1/offboardings/batch',
  'get /v1/offboardings',
  'get /v1/offboardings/{id}',
  'delete /v1/offboardings/{id}',
  'get /v1/queues',
  'post /v1/queues/retire/pause',
  'post /v1/queues/retire/resume',
  'get /v1/tenants',
  'post /v1/tenants/{name}/resume',
  'get /v1/dead-letters',
  'get /v1/dead-letters/{id}',
  'post /v1/dead-letters/{id}/redrive',
  'delete /v1/dead-letters/{id}',
  'get /v1/batches',
  'get /v1/batches/{id}',
  'get /v1/batches/{id}/items',
  'post /v1/batches/{id}/approve',
  'post /v1/batches/{id}/reject',
  'get /v1/evidence',
  'post /v1/offboardings/{id}/verify',
  'get /v1/offboardings/{id}/secrets',
  'get /v1/preflight',
  'get /healthz',
  'get /readyz',
  'get /metrics',
  'get /',
  'get /dashboard',
];

describe('OpenAPI document', () => {
  it('validates as OpenAPI 3.1 and lists every route', async () => {
    const res = await t.app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(listed.sort()).toEqual([...ROUTES].sort());
    // No Bull Board internals or Swagger UI assets leak into the document.
    expect(listed.some((r) => r.includes('/dashboard/'))).toBe(false);
  });

  it('documents the schemas the server validates with', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    const single = doc.paths['/v1/offboardings'].post;
    const body = deref(doc, single.requestBody.content['application/json'].schema);
    expect(body).toMatchObject({ additionalProperties: false, required: ['user'] });
    expect(Object.keys(body.properties).sort()).toEqual([
      'callbackUriPath',
      'correlationId',
      'devicePolicy',
      'dryRun',
      'effectiveAt',
      'reason',
      'tenant',
      'user',
    ]);
    expect(Object.keys(single.responses).sort()).toEqual([
      '200',
      '202',
      '400',
      '401',
      '403',
      '409',
      '413',
      '415',
      '422',
      '429',
      '503',
    ]);
    const batchItems = deref(
      doc,
      doc.paths['/v1/offboardings/batch'].post.requestBody.content['application/json'].schema,
    ).properties.items;
    expect(batchItems).toMatchObject({
      maxItems: 10_000,
      items: { $ref: '#/components/schemas/OffboardingRequest' },
    });
    expect(doc.paths['/v1/dead-letters'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'limit',
      'offset',
      'reason',
    ]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('names every JSON body as a component schema, with enums from src/interfaces.ts, servers and a licence', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    let bodies = 0;
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        const contents = [
          op.requestBody?.content ?? {},
          ...Object.values<any>(op.responses).map((r) => r.content ?? {}),
        ];
        for (const content of contents) {
          for (const [media, entry] of Object.entries<any>(content)) {
            if (!media.includes('json')) continue;
            const name = String(entry.schema.$ref ?? '').replace('#/components/schemas/', '');
            expect(doc.components.schemas[name], `${method} ${path} ${media}`).toBeDefined();
            bodies += 1;
          }
        }
      }
    }
    expect(bodies).toBeGreaterThan(80);
    const s = doc.components.schemas;
    expect(s.DeadLetter.properties.reason.enum).toEqual([...DEAD_LETTER_REASONS]);
    expect(s.RetireRecord.properties.outcome.enum).toEqual([...OUTCOMES]);
    expect(s.Evidence.properties.outcome.enum).toEqual([...OUTCOMES]);
    expect(s.JobView.properties.state.enum).toEqual([...JOB_STATES]);
    expect(s.Evidence.properties.verification.properties.state.enum).toEqual([...VERIFICATION_STATES]);
    expect(s.Evidence.properties.devices.items.properties.after.properties.result.enum).toEqual([
      ...DEVICE_RESULTS,
    ]);
    expect(s.Role.enum).toEqual([...ROLES]);
    expect(doc.paths['/v1/offboardings'].post['x-roles']).toEqual(['producer']);
    expect(doc.paths['/v1/batches/{id}/approve'].post['x-roles']).toEqual(['operator']);
    // What the server always sends is required (the serializer would fail without it).
    expect(s.EnqueueResult.required).toEqual(['id', 'user', 'state', 'duplicate']);
    expect(s.JobView.required).toEqual(
      expect.arrayContaining(['id', 'state', 'record', 'evidence', 'history']),
    );
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.info.license).toEqual({ name: 'MIT', identifier: 'MIT' });
  });

  it('gives every operation a unique camelCase operationId, derived from method and path', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(ids.length).toBe(ROUTES.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths['/v1/offboardings']?.get?.operationId).toBe('getOffboardings');
    expect(doc.paths['/v1/offboardings/{id}']?.get?.operationId).toBe('getOffboardingsById');
    expect(doc.paths['/v1/dead-letters/{id}/redrive']?.post?.operationId).toBe('postDeadLettersByIdRedrive');
    expect(doc.paths['/']?.get?.operationId).toBe('getRoot');
  });

  it('documents the response headers clients rely on: Location on 202, rate limits, Retry-After', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    const intake = doc.paths['/v1/offboardings'].post.responses;
    expect(intake['202'].headers.location.schema).toMatchObject({ type: 'string' });
    expect(doc.paths['/v1/offboardings/batch'].post.responses['202'].headers.location).toBeDefined();
    for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) {
      expect(intake['202'].headers[h].schema, h).toMatchObject({ type: 'integer' });
      expect(doc.paths['/v1/queues'].get.responses['200'].headers[h], h).toBeDefined();
    }
    for (const h of ['ratelimit', 'ratelimit-policy']) {
      expect(intake['202'].headers[h].schema, h).toMatchObject({ type: 'string' });
      expect(doc.paths['/v1/queues'].get.responses['200'].headers[h], h).toBeDefined();
    }
    expect(intake['202'].headers['idempotent-replayed']).toBeDefined();
    expect(
      doc.paths['/v1/offboardings/batch'].post.parameters.find(
        (p: { name: string; in: string }) => p.in === 'header' && p.name === 'idempotency-key',
      ),
    ).toBeDefined();
    expect(intake['429'].headers['retry-after'].schema).toMatchObject({ type: 'integer' });
    // Probes and /metrics are not rate limited, so they promise no such headers.
    expect(doc.paths['/healthz'].get.responses['200']?.headers?.['x-ratelimit-limit']).toBeUndefined();
    // And the server really sends what the document promises.
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings',
      headers: { authorization: `Bearer ${KEYS.producer}` },
      payload: { user: 'docs-headers@contoso.com' },
    });
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe(`/v1/offboardings/${res.json().id}`);
    expect(Number(res.headers['x-ratelimit-limit'])).toBeGreaterThan(0);
    expect(res.headers['x-ratelimit-remaining']).toBeDefined();
  });

  it('has no request body on DELETE operations: the discard note is a query parameter', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    for (const path of ['/v1/dead-letters/{id}', '/v1/offboardings/{id}']) {
      const op = doc.paths[path].delete;
      expect(op.requestBody, path).toBeUndefined();
      expect(
        op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort(),
        path,
      ).toEqual(['path:id', 'query:note']);
    }
  });

  it('serves Swagger UI at /docs without a key', async () => {
    const ui = await t.app.inject({ url: '/docs' });
    const page = ui.statusCode === 302 ? await t.app.inject({ url: String(ui.headers.location) }) : ui;
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger-ui');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  });
});
