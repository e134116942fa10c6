// Bulk submissions held by the mass-change guard: list, inspect, approve, reject.
import type { FastifyPluginAsync } from 'fastify';
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
import { AUTH_ERRORS, emptyBody, errors, idParams, reasonBody } from '../schemas/common.js';
import { batchSummary } from '../schemas/offboarding.js';

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

export const batchRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/batches',
    {
      config: { access: VIEWER },
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
      return { items: await listBatches(ctx, q) };
    },
  );

  app.get(
    '/v1/batches/:id',
    {
      config: { access: VIEWER },
      schema: {
        summary: 'One batch',
        tags: ['batches'],
        params: idParams,
        response: { 200: batchSummary, ...errors(400, ...AUTH_ERRORS, 404, 503) },
      },
    },
    async (request) => getBatch(ctx, id(request)),
  );

  app.get(
    '/v1/batches/:id/items',
    {
      config: { access: VIEWER },
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
      const items = await listBatchItems(ctx, id(request), q);
      return { items: items.map((i) => ({ index: i.n, request: i.r })) };
    },
  );

  app.post(
    '/v1/batches/:id/approve',
    {
      config: { access: OPERATOR },
      // Approving enqueues the whole batch (up to 10,000 jobs per submission, more from imports).
      handlerTimeout: 300_000,
      schema: {
        summary: 'Approve a held batch: its items are enqueued (audited; GUARD_TWO_PERSON applies)',
        tags: ['batches'],
        params: idParams,
        body: emptyBody,
        response: {
          200: {
            title: 'BatchDecision',
            type: 'object',
            required: ['batch'],
            properties: { batch: batchSummary },
          },
          ...errors(400, ...AUTH_ERRORS, 404, 409, 503),
        },
      },
    },
    async (request) => {
      const out = await approveBatch(ctx, id(request), actorOf(request), { results: false });
      return { batch: out.batch };
    },
  );

  app.post(
    '/v1/batches/:id/reject',
    {
      config: { access: OPERATOR },
      schema: {
        summary: 'Reject a held batch: nothing is enqueued (audited)',
        tags: ['batches'],
        params: idParams,
        body: reasonBody,
        response: {
          200: {
            title: 'BatchDecision',
            type: 'object',
            required: ['batch'],
            properties: { batch: batchSummary },
          },
          ...errors(400, ...AUTH_ERRORS, 404, 409, 503),
        },
      },
    },
    async (request) => {
      const { reason } = request.body as { reason?: string };
      return { batch: await rejectBatch(ctx, id(request), actorOf(request), reason) };
    },
  );
};
