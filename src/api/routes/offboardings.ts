// The offboardings resource, one file for all its routes: submitting leavers (POST, one or a
// batch, through the intake front door, src/front-door/front-door.ts), reading jobs (one by id, or
// all of one leaver) and cancelling a pending one. A 202 is only sent after BullMQ's add resolved,
// i.e. the job is in Redis; when Redis is unreachable the error handler answers 503. A producer key
// reads only the requests it made; viewers and operators read every job.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { DevicePolicyScope } from '../../front-door/device-policy.js';
import { type SubmitOneResult, submitBulk, submitOne } from '../../front-door/front-door.js';
import { requestTenant } from '../../front-door/tenant.js';
import { cancelJob } from '../../intake/cancel.js';
import type { OffboardRequest } from '../../intake/enqueue.js';
import { producerBulkView, producerView } from '../../intake/privacy.js';
import { InvalidRequestError, validateRequest } from '../../intake/validate.js';
import { findUserJobs } from '../../records/user-jobs.js';
import { InvalidUserError, normaliseUser } from '../../values/user.js';
import { actorOf, OPERATOR, PRODUCER, READ_JOB } from '../auth/access.js';
import { reindex, screenItems } from '../batch-items.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { idempotencyHeaders } from '../idempotency.js';
import { type JobView, jobView } from '../job-view.js';
import { AUTH_ERRORS, errors, idParams, noteQuery } from '../schemas/common.js';
import { cancelResult, jobView as jobViewSchema } from '../schemas/jobs.js';
import {
  batchRequest,
  batchRequestDoc,
  batchResponse,
  enqueueResult,
  offboardingRequest,
  userField,
} from '../schemas/offboarding.js';
import { assertJobVisible, seesTenant } from '../tenant-filter.js';

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

/** Which device policy profiles the caller may name (a producer key: the ones API_KEYS lists). */
function policyScope(request: FastifyRequest): DevicePolicyScope | undefined {
  const p = request.principal;
  if (!p) return undefined;
  return { role: p.role, ...(p.devicePolicies ? { devicePolicies: p.devicePolicies } : {}) };
}

function scopeMeta(request: FastifyRequest): { devicePolicyScope?: DevicePolicyScope } {
  const scope = policyScope(request);
  return scope ? { devicePolicyScope: scope } : {};
}

/** Without a correlation id of its own, a request is correlated by its request id (logs ↔ audit). */
function withCorrelation(body: OffboardRequest, request: FastifyRequest): OffboardRequest {
  return body.correlationId ? body : { ...body, correlationId: request.id };
}

const userQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['user'],
  properties: {
    user: userField,
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 20,
      description: 'Most recent jobs returned',
    },
  },
} as const;

/** A producer sees its own requests only; to it, anyone else's job does not exist. Nor to a
 * tenant-scoped key a job of another tenant. */
function visibleTo(request: FastifyRequest, view: JobView): boolean {
  if (!seesTenant(request, view.data.tenant)) return false;
  return request.principal?.role !== 'producer' || view.data.requestedBy === actorOf(request);
}

/** Who submits, with the tenants the key may act for (the front door checks the request's tenant). */
function intakeMeta(request: FastifyRequest, source: 'api' | 'batch') {
  const scope = request.principal?.tenants;
  return { requestedBy: actorOf(request), source, ...(scope ? { tenantScope: scope } : {}) };
}

// Registered in this order (POSTs first) as the two plugins were: the OpenAPI document keeps its order.
export const offboardingRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx, metrics }) => {
  app.post(
    '/v1/offboardings',
    {
      config: { access: PRODUCER, idempotent: true, tenantAware: true },
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
          ...intakeMeta(request, 'api'),
          ...scopeMeta(request),
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
          ...(out.devicePolicy ? { devicePolicy: out.devicePolicy } : {}),
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
        tenantAware: true,
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
      const body = request.body as { items: unknown[]; dryRun?: boolean; tenant?: string };
      const meta = intakeMeta(request, 'batch');
      // The batch's own tenant is checked as a whole (400 / 403); items may name it again.
      const tenant = body.tenant !== undefined ? requestTenant(ctx, body.tenant, meta) : undefined;
      const { passed, refused } = screenItems(body.items);
      const out =
        passed.length === 0
          ? { held: false as const, results: [] }
          : await submitBulk(
              ctx,
              passed.map((p) => p.item),
              {
                ...meta,
                ...(tenant ? { tenant } : {}),
                ...scopeMeta(request),
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
  app.get(
    '/v1/offboardings',
    {
      config: { access: READ_JOB, tenantAware: true },
      schema: {
        summary: 'The jobs of one leaver, newest first (a producer key sees only its own requests)',
        tags: ['offboardings'],
        querystring: userQuery,
        response: {
          200: {
            title: 'JobList',
            type: 'object',
            required: ['user', 'items'],
            properties: {
              user: { type: 'string', description: 'The user, normalised (lower case)' },
              items: { type: 'array', items: jobViewSchema },
            },
          },
          ...errors(400, ...AUTH_ERRORS, 503),
        },
      },
    },
    async (request) => {
      const q = request.query as { user: string; limit: number };
      let user: string;
      try {
        user = normaliseUser(q.user);
      } catch (err) {
        if (err instanceof InvalidUserError) throw new ApiError(400, 'invalid_request', err.message);
        throw err;
      }
      // A UPN also finds jobs keyed by the object ids it is known to have (records/user-jobs.ts).
      const { ids, history, users } = await findUserJobs(ctx, user);
      const views: JobView[] = [];
      for (const id of ids) {
        try {
          views.push(await jobView(ctx, id, { history }));
        } catch (err) {
          // A job named in the history may have aged out of retention since.
          if (!(err instanceof ApiError && err.status === 404)) throw err;
        }
      }
      const items = views
        .filter((v) => users.includes(v.user) && visibleTo(request, v))
        .sort((a, b) => (b.timestamps.createdAt ?? '').localeCompare(a.timestamps.createdAt ?? ''))
        .slice(0, q.limit);
      return { user, items };
    },
  );

  app.get(
    '/v1/offboardings/:id',
    {
      config: { access: READ_JOB, tenantAware: true },
      schema: {
        summary:
          'State, attempts, record and audit history of one job (a producer key: its own requests only)',
        tags: ['offboardings'],
        params: idParams,
        response: { 200: jobViewSchema, ...errors(400, ...AUTH_ERRORS, 404, 503) },
      },
    },
    async (request) => {
      const id = (request.params as { id: string }).id;
      const view = await jobView(ctx, id);
      if (!visibleTo(request, view)) throw new ApiError(404, 'not_found', `no offboarding job with id ${id}`);
      return view;
    },
  );

  app.delete(
    '/v1/offboardings/:id',
    {
      config: { access: OPERATOR, tenantAware: true },
      schema: {
        summary: 'Cancel a pending (waiting or future-dated) job',
        tags: ['offboardings'],
        params: idParams,
        querystring: noteQuery,
        response: { 200: cancelResult, ...errors(400, ...AUTH_ERRORS, 404, 409, 503) },
      },
    },
    async (request) => {
      const { note } = request.query as { note?: string };
      const id = (request.params as { id: string }).id;
      await assertJobVisible(ctx, request, id);
      return cancelJob(ctx, id, actorOf(request), note);
    },
  );
};
