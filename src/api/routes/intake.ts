// Intake: how HR systems hand over leavers. A 202 is only sent after BullMQ's add resolved, i.e.
// the job is in Redis; when Redis is unreachable the error handler answers 503.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type SubmitOneResult, submitBulk, submitOne } from '../../front-door/front-door.js';
import type { OffboardRequest } from '../../intake/enqueue.js';
import { producerBulkView, producerView } from '../../intake/privacy.js';
import { InvalidRequestError, validateRequest } from '../../intake/validate.js';
import { actorOf, PRODUCER } from '../auth/access.js';
import { reindex, screenItems } from '../batch-items.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { idempotencyHeaders } from '../idempotency.js';
import { AUTH_ERRORS, errors } from '../schemas/common.js';
import {
  batchRequest,
  batchRequestDoc,
  batchResponse,
  enqueueResult,
  offboardingRequest,
} from '../schemas/offboarding.js';

/** Without a correlation id of its own, a request is correlated by its request id (logs ↔ audit). */
/** The moment an item asked for, validated (absent: now, or not a valid item). */
function askedFor(item: unknown): string | undefined {
  try {
    return validateRequest(item).effectiveAt;
  } catch {
    return undefined;
  }
}

/** Producers never learn another requester's job id or moment (src/intake/privacy.ts). */
function isProducer(request: FastifyRequest): boolean {
  return request.principal?.role === 'producer';
}

function withCorrelation(body: OffboardRequest, request: FastifyRequest): OffboardRequest {
  return body.correlationId ? body : { ...body, correlationId: request.id };
}

export const intakeRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx, metrics }) => {
  app.post(
    '/v1/offboardings',
    {
      config: { access: PRODUCER, idempotent: true },
      schema: {
        summary: 'Request the retirement of a leaver’s devices',
        tags: ['intake'],
        headers: idempotencyHeaders,
        body: offboardingRequest,
        response: {
          202: {
            ...enqueueResult,
            description:
              'Stored in Redis: the job will run; or held for approval (state held) when the key, or all keys together, had more than GUARD_THRESHOLD users accepted without approval within GUARD_WINDOW',
          },
          200: { ...enqueueResult, description: 'The user already has a pending job (duplicate: true)' },
          ...errors(400, ...AUTH_ERRORS, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      let out: SubmitOneResult;
      try {
        out = await submitOne(ctx, withCorrelation(request.body as OffboardRequest, request), {
          requestedBy: actorOf(request),
          source: 'api',
        });
      } catch (err) {
        if (err instanceof InvalidRequestError) metrics.intake.inc({ result: 'invalid' });
        throw err;
      }
      if (out.held) {
        metrics.intake.inc({ result: 'held' });
        reply.header('location', `/v1/batches/${encodeURIComponent(out.batch.id)}`);
        return reply.status(202).send({
          id: out.batch.id,
          user: out.batch.sample[0],
          state: 'held',
          duplicate: false,
          batchId: out.batch.id,
          heldBecause: out.cause,
        });
      }
      const result = isProducer(request)
        ? await producerView(ctx, out.result, actorOf(request), askedFor(request.body))
        : out.result;
      // Metrics (operators') count what really happened.
      metrics.intake.inc({ result: out.result.duplicate ? 'duplicate' : 'accepted' });
      reply.header('location', `/v1/offboardings/${encodeURIComponent(result.id)}`);
      return reply.status(result.duplicate ? 200 : 202).send(result);
    },
  );

  app.post(
    '/v1/offboardings/batch',
    {
      config: {
        access: PRODUCER,
        idempotent: true,
        swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: batchRequestDoc }, url }),
      },
      schema: {
        summary: 'Request many leavers at once (up to 10,000)',
        description:
          'Each item is validated on its own: invalid items are reported and never block valid ones. ' +
          'Above GUARD_THRESHOLD valid users the batch is held for an operator’s approval instead.',
        tags: ['intake'],
        headers: idempotencyHeaders,
        body: batchRequest,
        response: {
          202: { ...batchResponse, description: 'Some items stored, or the whole batch held for approval' },
          200: { ...batchResponse, description: 'Nothing new: every valid item was already pending' },
          ...errors(400, ...AUTH_ERRORS, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { items: unknown[]; dryRun?: boolean };
      const { passed, refused } = screenItems(body.items);
      const out =
        passed.length === 0
          ? { held: false as const, results: [] }
          : await submitBulk(
              ctx,
              passed.map((p) => p.item),
              {
                requestedBy: actorOf(request),
                source: 'batch',
                ...(body.dryRun !== undefined ? { dryRun: body.dryRun } : {}),
              },
            );
      if (out.held) {
        const invalid = [...refused, ...reindex(out.invalid, passed)].sort((x, y) => x.index - y.index);
        metrics.intake.inc({ result: 'held' }, out.batch.count);
        metrics.intake.inc({ result: 'invalid' }, invalid.length);
        const summary = {
          accepted: 0,
          duplicate: out.batch.duplicate,
          invalid: invalid.length,
          held: out.batch.count,
        };
        reply.header('location', `/v1/batches/${encodeURIComponent(out.batch.id)}`);
        return reply.status(202).send({ held: true, summary, batch: out.batch, invalid });
      }
      const all = [...refused, ...reindex(out.results, passed)].sort((x, y) => x.index - y.index);
      const results = isProducer(request)
        ? await producerBulkView(ctx, all, actorOf(request), (i) => askedFor(body.items[i]))
        : all;
      const real = { accepted: 0, duplicate: 0, invalid: 0, held: 0 };
      for (const r of all) real[r.status] += 1;
      metrics.intake.inc({ result: 'accepted' }, real.accepted);
      metrics.intake.inc({ result: 'duplicate' }, real.duplicate);
      metrics.intake.inc({ result: 'invalid' }, real.invalid);
      const summary = { accepted: 0, duplicate: 0, invalid: 0, held: 0 };
      for (const r of results) summary[r.status] += 1;
      if (summary.accepted === 0 && summary.duplicate === 0) {
        throw new ApiError(400, 'invalid_request', 'no item of the batch is valid; nothing was stored', {
          summary,
          results,
        });
      }
      return reply.status(summary.accepted > 0 ? 202 : 200).send({ held: false, summary, results });
    },
  );
};
