// Proof of retirement for auditors and operators: the evidence export (viewer; one row per device,
// CSV or JSON, streamed so a layoff's 10,000 leavers never sit in memory) and re-verification of one
// job (operator, audited with the key's name).
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { csvStream } from '../../evidence/csv.js';
import {
  type ExportFilter,
  exportColumns,
  exportRange,
  exportRows,
  exportShowsActions,
  InvalidRangeError,
  jsonStream,
} from '../../evidence/export.js';
import { DEVICE_ACTION_COLUMNS, EVIDENCE_ACTION_COLUMNS, EVIDENCE_COLUMNS } from '../../evidence/rows.js';
import { EvidenceNotFoundError, NothingToVerifyError, requestReverify } from '../../evidence/schedule.js';
import { VERIFICATION_STATES, type VerificationState } from '../../interfaces.js';
import type { QueueContext } from '../../queue/context.js';
import { deadLetterId } from '../../queue/names.js';
import { actorOf, OPERATOR, VIEWER } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { AUTH_ERRORS, emptyBody, errors, ID_PATTERN, idParams } from '../schemas/common.js';
import { assertJobVisible } from '../tenant-filter.js';

const instant = {
  type: 'string',
  maxLength: 40,
  anyOf: [{ format: 'date' }, { format: 'date-time' }],
} as const;

const exportQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: {
      ...instant,
      description:
        'Inventory time from (inclusive): a date (2026-12-01, UTC midnight) or an RFC 3339 date-time with offset. Default: 24 h before `to`, or 400 days with `batch`',
    },
    to: { ...instant, description: 'Inventory time up to (exclusive), same forms. Default: now' },
    batch: { type: 'string', pattern: ID_PATTERN, description: 'Only the leavers of this batch' },
    state: {
      type: 'string',
      enum: VERIFICATION_STATES,
      description: 'Only leavers whose verification is in this state',
    },
    format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
    bom: {
      type: 'boolean',
      default: false,
      description: 'CSV only: start with a UTF-8 byte order mark (Excel reads non-ASCII names correctly)',
    },
  },
} as const;

const row = {
  type: 'object',
  // The device action columns appear only with a device policy (DEVICE_POLICY_FILE).
  properties: Object.fromEntries(EVIDENCE_ACTION_COLUMNS.map((c) => [c, { type: ['string', 'null'] }])),
} as const;

const exportJson = {
  title: 'EvidenceExport',
  type: 'object',
  description:
    'Streamed: filter first, then `rows` (one per device; a leaver without devices is one row with empty device columns), then the counts',
  properties: {
    from: { type: 'string' },
    to: { type: 'string' },
    batch: { type: ['string', 'null'] },
    state: { type: ['string', 'null'] },
    columns: { type: 'array', items: { type: 'string' } },
    rows: { type: 'array', items: row },
    leavers: { type: 'integer' },
    count: { type: 'integer', description: 'Rows' },
  },
} as const;

const reverifyResult = {
  title: 'Reverification',
  type: 'object',
  additionalProperties: true,
  properties: {
    jobId: { type: 'string' },
    user: { type: 'string' },
    round: { type: 'integer', description: 'Re-verifications of this job so far' },
    verifyJobId: { type: 'string', description: 'The verify job that re-reads the devices' },
    previousState: { type: 'string', description: 'Verification state before (pending: restarted)' },
    deadline: { type: 'string', description: 'Reads stop at this instant (now + VERIFY_WINDOW)' },
  },
} as const;

/** 404 for an id nobody knows; 409 for a job that exists but has no evidence or nothing to verify. */
async function reverify(ctx: QueueContext, jobId: string, actor: string) {
  try {
    return await requestReverify(ctx, jobId, actor, ctx.config);
  } catch (err) {
    if (err instanceof NothingToVerifyError) throw new ApiError(409, 'nothing_to_verify', err.message);
    if (!(err instanceof EvidenceNotFoundError)) throw err;
    const [job, dl] = await Promise.all([
      ctx.retire.getJob(jobId),
      ctx.deadLetter.getJob(deadLetterId(jobId)),
    ]);
    if (!job?.data?.user && !dl?.data?.original) {
      throw new ApiError(404, 'not_found', `no offboarding job with id ${jobId}`);
    }
    throw new ApiError(
      409,
      'no_evidence',
      `job ${jobId} has no evidence to verify (not finished, dead-lettered, or run with EVIDENCE=off)`,
    );
  }
}

const ms = (text: string | undefined) =>
  text === undefined ? undefined : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);

export const evidenceRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/evidence',
    {
      config: { access: VIEWER, tenantAware: true },
      // A year's export streams for longer than the default handler timeout.
      handlerTimeout: 600_000,
      schema: {
        summary:
          'Evidence export: one row per inventoried device (devices before, the action, each device after), JSON or CSV',
        tags: ['evidence'],
        querystring: exportQuery,
        response: {
          200: {
            description: 'The export, streamed',
            content: {
              'application/json': { schema: exportJson },
              'text/csv': {
                schema: {
                  type: 'string',
                  description: `RFC 4180, header ${EVIDENCE_COLUMNS.join(',')} (with a device policy: one row per device × action, then ${DEVICE_ACTION_COLUMNS.join(',')}); cells a spreadsheet would run as a formula start with '`,
                },
              },
            },
          },
          ...errors(400, ...AUTH_ERRORS, 503),
        },
      },
    },
    async (request, reply) => {
      const q = request.query as {
        from?: string;
        to?: string;
        batch?: string;
        state?: VerificationState;
        format: 'json' | 'csv';
        bom: boolean;
      };
      let filter: ExportFilter;
      try {
        filter = {
          ...exportRange({ fromMs: ms(q.from), toMs: ms(q.to), batchId: q.batch }),
          ...(q.batch !== undefined ? { batchId: q.batch } : {}),
          ...(q.state !== undefined ? { state: q.state } : {}),
          ...(request.principal?.tenants ? { tenants: request.principal.tenants } : {}),
        };
      } catch (err) {
        if (err instanceof InvalidRangeError) throw new ApiError(400, 'invalid_request', err.message);
        throw err;
      }
      // Fail before the 200 goes out when Redis is gone: mid-stream there is no status left to send.
      await ctx.redis.ping();
      const counts = { leavers: 0, rows: 0 };
      // With a device policy: one row per device × action, its columns at the end.
      const actions = exportShowsActions(ctx.config);
      const columns = exportColumns(actions);
      const rows = exportRows(ctx.redis, ctx.prefix, filter, counts, { actions });
      reply.header('cache-control', 'no-store');
      if (q.format === 'csv') {
        const day = (t: number) => new Date(t).toISOString().slice(0, 10);
        const name = `evidence-${day(filter.fromMs)}-to-${day(filter.toMs)}${filter.batchId ? `-${filter.batchId}` : ''}.csv`;
        return reply
          .type('text/csv; charset=utf-8; header=present')
          .header('content-disposition', `attachment; filename="${name}"`)
          .send(Readable.from(csvStream(columns, rows, { bom: q.bom })));
      }
      return reply
        .type('application/json; charset=utf-8')
        .send(Readable.from(jsonStream(filter, rows, counts, undefined, columns)));
    },
  );

  app.post(
    '/v1/offboardings/:id/verify',
    {
      config: { access: OPERATOR, tenantAware: true },
      schema: {
        summary:
          "Verify a job's devices again: re-read them from now until now + VERIFY_WINDOW (audited `reverify`)",
        tags: ['evidence'],
        params: idParams,
        body: emptyBody,
        response: { 200: reverifyResult, ...errors(400, ...AUTH_ERRORS, 404, 409, 503) },
      },
    },
    async (request) => {
      const id = (request.params as { id: string }).id;
      await assertJobVisible(ctx, request, id);
      return reverify(ctx, id, actorOf(request));
    },
  );
};
