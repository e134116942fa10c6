// Schema pieces shared by every route group. Route schemas are plain JSON Schema literals: Fastify
// validates with them and @fastify/swagger builds the OpenAPI document from the very same objects.
// Job, dead-letter and batch ids: see ../../queue/ids.ts (no `:`, not one of BullMQ's own key names).

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
  type: 'object',
  additionalProperties: false,
  properties: {},
} as const;

export const reasonBody = {
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

export const errorSchema = {
  type: 'object',
  description: 'Every error has this shape',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Machine-readable; branch on this' },
        message: { type: 'string' },
        details: {},
      },
    },
  },
} as const;

/** Error responses for the given statuses, all of the one shape. */
export function errors(...statuses: number[]): Record<number, typeof errorSchema> {
  const out: Record<number, typeof errorSchema> = {};
  for (const s of statuses) out[s] = errorSchema;
  return out;
}

/** The usual failures of an authenticated route. */
export const AUTH_ERRORS = [401, 403, 429] as const;

export const looseObject = { type: 'object', additionalProperties: true } as const;

export const auditRecord = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    actor: { type: 'string' },
    at: { type: 'string' },
    jobId: { type: 'string' },
    user: { type: 'string' },
    correlationId: { type: 'string' },
    details: looseObject,
  },
} as const;
