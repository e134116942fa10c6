// Schema pieces shared by every route group. Route schemas are plain JSON Schema literals: Fastify
// validates with them and @fastify/swagger builds the OpenAPI document from the very same objects.
// Job, dead-letter and batch ids: see ../../queue/ids.ts (no `:`, not one of BullMQ's own key names).

import { AUDIT_TYPES } from '../../interfaces.js';
import { ID_PATTERN } from '../../queue/ids.js';

export { ID_PATTERN };

export const idParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: ID_PATTERN, description: 'Job, dead-letter or batch id' } },
} as const;

/** Bodies of action routes: nothing or an optional short note. */
export const emptyBody = {
  title: 'EmptyBody',
  type: 'object',
  additionalProperties: false,
  properties: {},
} as const;

export const reasonBody = {
  title: 'ReasonBody',
  type: 'object',
  additionalProperties: false,
  properties: {
    reason: {
      type: 'string',
      maxLength: 500,
      pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff]*$',
      description: 'Why; recorded in the audit trail',
    },
  },
} as const;

/** DELETE routes take their note as a query parameter: generated clients send no body on DELETE. */
export const noteQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { note: reasonBody.properties.reason },
} as const;

/**
 * RFC 9457 problem details, the one error shape (src/api/errors.ts). `code` and `details` are
 * extensions; `error` repeats them with `message` for clients written against `{error:{…}}`.
 */
export const problemSchema = {
  title: 'Problem',
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'instance', 'code', 'error'],
  properties: {
    type: { type: 'string', description: 'Problem type URI (tag:offboard,2026:problem:<code>)' },
    title: { type: 'string', description: 'Short summary (the HTTP reason phrase)' },
    status: { type: 'integer', description: 'The HTTP status code' },
    detail: { type: 'string', description: 'What went wrong in this occurrence' },
    instance: { type: 'string', description: 'The request path' },
    code: { type: 'string', description: 'Machine-readable; branch on this' },
    details: { description: 'Per-code details: invalid fields, limits, states' },
    error: {
      type: 'object',
      description: 'The original error object (same code, message = detail), kept for existing clients',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {},
      },
    },
  },
} as const;

/** Kept for imports that name the old constant: every error is a problem. */
export const errorSchema = problemSchema;

const PROBLEM_RESPONSE = {
  description: 'Problem details (RFC 9457, application/problem+json)',
  content: { 'application/problem+json': { schema: problemSchema } },
} as const;

/** Error responses for the given statuses, all of the one shape. */
export function errors(...statuses: number[]): Record<number, typeof PROBLEM_RESPONSE> {
  const out: Record<number, typeof PROBLEM_RESPONSE> = {};
  for (const s of statuses) out[s] = PROBLEM_RESPONSE;
  return out;
}

/** The usual failures of an authenticated route. */
export const AUTH_ERRORS = [401, 403, 429] as const;

export const looseObject = { type: 'object', additionalProperties: true } as const;

export const auditRecord = {
  title: 'AuditRecord',
  type: 'object',
  additionalProperties: true,
  required: ['id', 'type', 'actor', 'at'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: AUDIT_TYPES },
    actor: { type: 'string' },
    at: { type: 'string' },
    jobId: { type: 'string' },
    user: { type: 'string' },
    correlationId: { type: 'string' },
    details: looseObject,
  },
} as const;
