// The dead-letter queue: inspect, redrive (add first, remove second) and discard, all audited.
import type { FastifyPluginAsync } from 'fastify';
import { discardDeadLetter, redriveDeadLetter } from '../../intake/redrive.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from '../../interfaces.js';
import { getDeadLetter, listDeadLetters } from '../../records/dead-letter.js';
import { actorOf, OPERATOR, VIEWER } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { AUTH_ERRORS, emptyBody, errors, idParams, noteQuery } from '../schemas/common.js';
import { deadLetterView } from '../schemas/jobs.js';
import { assertDeadLetterVisible } from '../tenant-filter.js';

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    reason: { type: 'string', enum: DEAD_LETTER_REASONS },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  },
} as const;

export const deadLetterRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/dead-letters',
    {
      config: { access: VIEWER, tenantAware: true },
      schema: {
        summary: 'Dead letters, newest first, optionally by reason',
        tags: ['dead-letters'],
        querystring: listQuery,
        response: {
          200: {
            title: 'DeadLetterPage',
            type: 'object',
            required: ['items', 'total', 'offset', 'limit'],
            properties: {
              items: { type: 'array', items: deadLetterView },
              total: { type: 'integer' },
              offset: { type: 'integer' },
              limit: { type: 'integer' },
            },
          },
          ...errors(400, ...AUTH_ERRORS, 503),
        },
      },
    },
    async (request) => {
      const q = request.query as { reason?: DeadLetterReason; offset: number; limit: number };
      const tenants = request.principal?.tenants;
      const page = await listDeadLetters(ctx, { ...q, ...(tenants ? { tenants } : {}) });
      return { ...page, offset: q.offset, limit: q.limit };
    },
  );

  app.get(
    '/v1/dead-letters/:id',
    {
      config: { access: VIEWER, tenantAware: true },
      schema: {
        summary: 'One dead letter',
        tags: ['dead-letters'],
        params: idParams,
        response: { 200: deadLetterView, ...errors(400, ...AUTH_ERRORS, 404, 503) },
      },
    },
    async (request) => {
      const id = (request.params as { id: string }).id;
      await assertDeadLetterVisible(ctx, request, id);
      return getDeadLetter(ctx, id);
    },
  );

  app.post(
    '/v1/dead-letters/:id/redrive',
    {
      config: { access: OPERATOR, tenantAware: true },
      schema: {
        summary: 'Put a dead letter back on the retire queue (audited)',
        tags: ['dead-letters'],
        params: idParams,
        body: emptyBody,
        response: {
          200: {
            title: 'Redrive',
            type: 'object',
            required: ['deadLetterId', 'jobId', 'duplicate'],
            properties: {
              deadLetterId: { type: 'string' },
              jobId: { type: 'string' },
              duplicate: { type: 'boolean' },
            },
          },
          ...errors(400, ...AUTH_ERRORS, 404, 503),
        },
      },
    },
    async (request) => {
      const id = (request.params as { id: string }).id;
      await assertDeadLetterVisible(ctx, request, id);
      return redriveDeadLetter(ctx, id, actorOf(request));
    },
  );

  app.delete(
    '/v1/dead-letters/:id',
    {
      config: { access: OPERATOR, tenantAware: true },
      schema: {
        summary: 'Discard a dead letter (audited, with an optional note)',
        tags: ['dead-letters'],
        params: idParams,
        querystring: noteQuery,
        response: {
          200: {
            title: 'Discard',
            type: 'object',
            required: ['deadLetterId'],
            properties: { deadLetterId: { type: 'string' } },
          },
          ...errors(400, ...AUTH_ERRORS, 404, 503),
        },
      },
    },
    async (request) => {
      const { note } = request.query as { note?: string };
      await assertDeadLetterVisible(ctx, request, (request.params as { id: string }).id);
      return discardDeadLetter(ctx, (request.params as { id: string }).id, actorOf(request), note);
    },
  );
};
