// Response shapes of the read routes (jobs, queues, dead letters).
import { DEAD_LETTER_REASONS } from '../../interfaces.js';
import { auditRecord, looseObject } from './common.js';

export const deadLetterView = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string', description: 'dl-<original job id>' },
    originalJobId: { type: 'string' },
    reason: {
      type: 'string',
      enum: DEAD_LETTER_REASONS,
    },
    lastStatus: { type: ['integer', 'null'] },
    graphCode: { type: 'string' },
    graphMessage: { type: 'string' },
    requestId: { type: 'string' },
    attempts: { type: 'integer' },
    throttledWaits: { type: 'integer' },
    firstAttemptAt: { type: 'string' },
    deadLetteredAt: { type: 'string' },
    original: looseObject,
  },
} as const;

export const jobView = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    state: {
      type: 'string',
      description: 'waiting, delayed, active, completed, failed, dead-lettered, …',
    },
    user: { type: 'string' },
    data: looseObject,
    attempts: {
      type: 'object',
      properties: {
        made: { type: 'integer' },
        max: { type: ['integer', 'null'] },
        graphCalls: { type: 'integer' },
        throttledWaits: { type: 'integer' },
      },
    },
    progress: { type: ['object', 'null'], additionalProperties: true },
    record: {
      type: ['object', 'null'],
      additionalProperties: true,
      description: 'RetireRecord when finished',
    },
    failedReason: { type: ['string', 'null'] },
    timestamps: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
    deadLetter: { anyOf: [deadLetterView, { type: 'null' }] },
    history: { type: 'array', items: auditRecord },
  },
} as const;

export const cancelResult = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    user: { type: 'string' },
    state: { type: 'string', enum: ['cancelled'] },
    previousState: { type: 'string' },
  },
} as const;

const counts = { type: 'object', additionalProperties: { type: 'integer' } } as const;

export const queuesView = {
  type: 'object',
  additionalProperties: true,
  properties: {
    retire: counts,
    deadLetter: counts,
    paused: { type: 'boolean' },
    pause: {
      type: ['object', 'null'],
      properties: { reason: { type: 'string' }, actor: { type: 'string' }, at: { type: 'string' } },
    },
    circuit: {
      type: 'object',
      additionalProperties: true,
      properties: {
        open: { type: 'boolean' },
        code: { type: 'string' },
        reason: { type: 'string' },
        openedAt: { type: 'string' },
        openedBy: { type: 'string' },
      },
    },
    throttle: {
      type: 'object',
      additionalProperties: true,
      properties: {
        ratePerSecond: { type: 'number' },
        factor: { type: 'number' },
        pausedUntil: { type: ['string', 'null'] },
        configured: looseObject,
      },
    },
  },
} as const;
