// Response shapes of the read routes (jobs, queues, dead letters).
import { DEAD_LETTER_REASONS, DEVICE_RESULTS, VERIFICATION_STATES } from '../../interfaces.js';
import { auditRecord, looseObject } from './common.js';

const nullableString = { type: ['string', 'null'] } as const;

/** One job's evidence (src/evidence/view.ts): each device before, with what became of it after. */
export const evidenceView = {
  type: ['object', 'null'],
  additionalProperties: true,
  description: 'Devices before, the action, each device after, the verification; null without evidence',
  properties: {
    inventoriedAt: { type: 'string' },
    inventoryRequestIds: { type: 'array', items: { type: 'string' } },
    outcome: { type: 'string' },
    action: {
      type: ['object', 'null'],
      description: 'The retire POST; null when none was sent (no devices, dry run)',
      properties: { at: { type: 'string' }, requestId: nullableString, status: { type: 'integer' } },
    },
    devices: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          id: { type: 'string' },
          deviceName: nullableString,
          operatingSystem: nullableString,
          serialNumber: nullableString,
          managedDeviceOwnerType: {
            ...nullableString,
            description: 'company, personal or unknown (Graph v1.0)',
          },
          ownerType: { ...nullableString, deprecated: true, description: 'Same as managedDeviceOwnerType' },
          managementState: { ...nullableString, description: 'State before the action' },
          after: {
            type: ['object', 'null'],
            description: 'Latest verification check; null before the first',
            properties: {
              result: { type: 'string', enum: DEVICE_RESULTS },
              stateAfter: nullableString,
              checkedAt: { type: 'string' },
            },
          },
        },
      },
    },
    verification: {
      type: 'object',
      additionalProperties: true,
      properties: {
        state: { type: 'string', enum: VERIFICATION_STATES },
        checks: { type: 'integer' },
        lastCheckedAt: { type: 'string' },
        nextCheckAt: { type: 'string' },
        deadline: { type: 'string' },
        endedAt: { type: 'string' },
      },
    },
  },
} as const;

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
    evidence: evidenceView,
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

/** One schedule's health in GET /v1/queues (src/schedule/sweep-status.ts scheduleHealth). */
const scheduleHealthView = {
  type: 'object',
  properties: {
    state: {
      type: 'string',
      enum: ['healthy', 'failing', 'not_run'],
      description: 'failing: the last failed tick is newer than the last good one',
    },
    lastSuccessAt: nullableString,
    lastFailureAt: nullableString,
    lastFailureReason: {
      ...nullableString,
      description: 'Why the last failed tick failed, e.g. "mass_withdrawal: …"; kept after a later success',
    },
  },
} as const;

export const queuesView = {
  type: 'object',
  additionalProperties: true,
  properties: {
    retire: counts,
    deadLetter: counts,
    notify: {
      ...counts,
      description:
        'Outcome notifications (webhooks, Lifecycle Workflows resume calls) per state; failed = gave up after retries',
    },
    schedules: {
      type: 'object',
      description: 'Scheduled sweeps by name: healthy, failing (and why) or not run yet',
      additionalProperties: scheduleHealthView,
    },
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
        code: {
          type: 'string',
          description:
            'Why it opened: unauthorized, forbidden_many, read_permission_missing, request_rejected, token_endpoint_unavailable, or a token endpoint error code (invalid_client, consent_required, …)',
        },
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
