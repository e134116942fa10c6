// Bulk submissions held by the mass-change guard: list, inspect, approve, reject. A decision names
// the version it reviewed: `GET /v1/batches/{id}` answers it as an ETag, approve and reject require
// it in `If-Match` (428 without, 409 `batch_changed` when users were added since).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  approveBatch,
  type BatchState,
  getBatch,
  listBatches,
  listBatchItems,
  rejectBatch,
} from '../../guard/batches.js';
import { BATCH_STATES } from '../../guard/types.js';
import { actorOf, OPERATOR, VIEWER } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { AUTH_ERRORS, emptyBody, errors, idParams, reasonBody } from '../schemas/common.js';
import { batchSummary } from '../schemas/offboarding.js';
import { assertBatchVisible, scopedRequest, seesTenant } from '../tenant-filter.js';

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: [...BATCH_STATES] },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

const itemsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 },
    limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
  },
} as const;

const id = (request: { params: unknown }) => (request.params as { id: string }).id;

/** A batch's ETag: its version, as a strong entity tag. */
const etag = (version: number) => `"${version}"`;

const ifMatchHeaders = {
  type: 'object',
  properties: {
    'if-match': {
      type: 'string',
      maxLength: 32,
      description: 'The ETag of the batch version that was reviewed (from GET /v1/batches/{id}), e.g. "3"',
    },
  },
} as const;

/**
 * The version named by `If-Match`: one strong tag (`"3"`; a bare `3` is taken too). Absent: undefined
 * (the guard answers 428). `*` or a list would approve whatever the batch holds now: refused.
 */
function ifMatch(request: FastifyRequest): number | undefined {
  const raw = request.headers['if-match'];
  if (raw === undefined) return undefined;
  const m = /^\s*"?(\d{1,9})"?\s*$/.exec(Array.isArray(raw) ? '' : raw);
  if (!m) {
    throw new ApiError(
      400,
      'invalid_request',
      'If-Match must name one batch version, e.g. If-Match: "3" (the ETag of GET /v1/batches/{id}); * and lists are refused',
      { field: 'If-Match' },
    );
  }
  return Number(m[1]);
}

export const batchRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/batches',
    {
      config: { access: VIEWER, tenantAware: true },
      schema: {
        summary: 'Bulk submissions held by the mass-change guard, newest first',
        tags: ['batches'],
        querystring: listQuery,
        response: {
          200: {
            title: 'BatchList',
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: batchSummary } },
          },
          ...errors(400, ...AUTH_ERRORS, 503),
        },
      },
    },
    async (request) => {
      const q = request.query as { state?: BatchState; limit: number };
      if (!scopedRequest(request)) return { items: await listBatches(ctx, q) };
      // A scoped key: its tenants' batches among the newest 1000.
      const all = await listBatches(ctx, { ...q, limit: 1000 });
      return { items: all.filter((b) => seesTenant(request, b.tenant)).slice(0, q.limit) };
    },
  );

  app.get(
    '/v1/batches/:id',
    {
      config: { access: VIEWER, tenantAware: true },
      schema: {
        summary: 'One batch',
        tags: ['batches'],
        params: idParams,
        response: { 200: batchSummary, ...errors(400, ...AUTH_ERRORS, 404, 503) },
      },
    },
    async (request, reply) => {
      await assertBatchVisible(ctx, request, id(request));
      const b = await getBatch(ctx, id(request));
      reply.header('etag', etag(b.version));
      return b;
    },
  );

  app.get(
    '/v1/batches/:id/items',
    {
      config: { access: VIEWER, tenantAware: true },
      schema: {
        summary: 'The users of a held batch, in submission order',
        tags: ['batches'],
        params: idParams,
        querystring: itemsQuery,
        response: {
          200: {
            title: 'BatchItems',
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: true,
                  required: ['index', 'request'],
                  properties: {
                    index: { type: 'integer' },
                    request: { type: 'object', additionalProperties: true },
                    devices: {
                      type: 'array',
                      description:
                        'A wipe batch (kind wipe): the leaver’s devices, each with its policy rule and the actions approving lets run, in order',
                      items: { type: 'object', additionalProperties: true },
                    },
                  },
                },
              },
            },
          },
          ...errors(400, ...AUTH_ERRORS, 404, 503),
        },
      },
    },
    async (request) => {
      const q = request.query as { offset: number; limit: number };
      await assertBatchVisible(ctx, request, id(request));
      const items = await listBatchItems(ctx, id(request), q);
      return {
        items: items.map((i) => ({ index: i.n, request: i.r, ...(i.devices ? { devices: i.devices } : {}) })),
      };
    },
  );

  app.post(
    '/v1/batches/:id/approve',
    {
      config: { access: OPERATOR, tenantAware: true },
      // Approving enqueues the whole batch (up to 10,000 jobs per submission, more from imports).
      handlerTimeout: 300_000,
      schema: {
        summary:
          'Approve a held batch at the version reviewed (If-Match: its ETag): its items are enqueued (audited; GUARD_TWO_PERSON applies)',
        tags: ['batches'],
        params: idParams,
        headers: ifMatchHeaders,
        body: emptyBody,
        response: {
          200: {
            title: 'BatchDecision',
            type: 'object',
            required: ['batch'],
            properties: { batch: batchSummary },
          },
          ...errors(400, ...AUTH_ERRORS, 404, 409, 428, 503),
        },
      },
    },
    async (request) => {
      const version = ifMatch(request);
      await assertBatchVisible(ctx, request, id(request));
      const out = await approveBatch(ctx, id(request), actorOf(request), {
        results: false,
        ...(version !== undefined ? { version } : {}),
      });
      return { batch: out.batch };
    },
  );

  app.post(
    '/v1/batches/:id/reject',
    {
      config: { access: OPERATOR, tenantAware: true },
      schema: {
        summary:
          'Reject a held batch at the version reviewed (If-Match: its ETag): nothing is enqueued (audited)',
        tags: ['batches'],
        params: idParams,
        headers: ifMatchHeaders,
        body: reasonBody,
        response: {
          200: {
            title: 'BatchDecision',
            type: 'object',
            required: ['batch'],
            properties: { batch: batchSummary },
          },
          ...errors(400, ...AUTH_ERRORS, 404, 409, 428, 503),
        },
      },
    },
    async (request) => {
      const { reason } = request.body as { reason?: string };
      const version = ifMatch(request);
      await assertBatchVisible(ctx, request, id(request));
      return {
        batch: await rejectBatch(ctx, id(request), actorOf(request), {
          reason,
          ...(version !== undefined ? { version } : {}),
        }),
      };
    },
  );
};
