// GET /v1/preflight's answer: the same report `offboard preflight --json` prints.
import { CHECK_IDS, CHECK_STATUSES } from '../../preflight/types.js';

export const preflightCheck = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'status', 'detail'],
  properties: {
    id: { type: 'string', enum: [...CHECK_IDS] },
    status: {
      type: 'string',
      enum: [...CHECK_STATUSES],
      description: 'skip: not needed by this configuration',
    },
    detail: { type: 'string' },
    fix: { type: 'string', description: 'What to do about a failure' },
  },
} as const;

export const preflightReport = {
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'at', 'mode', 'tenantId', 'graphBaseUrl', 'required', 'checks'],
  properties: {
    ok: { type: 'boolean', description: 'Every needed check passed (the CLI exits 0)' },
    at: { type: 'string', format: 'date-time' },
    mode: { type: 'string', enum: ['app', 'delegated'] },
    tenantId: { type: ['string', 'null'] },
    graphBaseUrl: { type: 'string' },
    required: {
      type: 'array',
      items: { type: 'string' },
      description: 'Graph permissions this configuration needs',
    },
    checks: { type: 'array', items: preflightCheck },
  },
} as const;

export const preflightQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    user: {
      type: 'string',
      minLength: 1,
      maxLength: 113,
      description: 'A known test user (UPN or object id) for the inventory read; default one directory user',
    },
  },
} as const;
