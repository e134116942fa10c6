// Response shapes of the read routes (jobs, queues, dead letters).
import {
  DEAD_LETTER_REASONS,
  DEVICE_ACTION_STATES,
  DEVICE_ACTION_VERIFICATIONS,
  DEVICE_ACTIONS,
  DEVICE_RESULTS,
  JOB_STATES,
  OUTCOMES,
  VERIFICATION_STATES,
} from '../../interfaces.js';
import { auditRecord, looseObject } from './common.js';
import { deviceActionResults } from './device-actions.js';

const nullableString = { type: ['string', 'null'] } as const;

/** One job's evidence (src/evidence/view.ts): each device before, with what became of it after. */
export const evidenceView = {
  title: 'Evidence',
  type: 'object',
  additionalProperties: true,
  description: 'Devices before, the action, each device after, the verification',
  required: ['inventoriedAt', 'inventoryRequestIds', 'outcome', 'action', 'devices', 'verification'],
  properties: {
    inventoriedAt: { type: 'string' },
    inventoryRequestIds: { type: 'array', items: { type: 'string' } },
    outcome: { type: 'string', enum: OUTCOMES },
    action: {
      type: ['object', 'null'],
      description: 'The retire POST; null when none was sent (no devices, dry run)',
      required: ['at', 'requestId', 'status'],
      properties: { at: { type: 'string' }, requestId: nullableString, status: { type: 'integer' } },
    },
    devices: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        required: ['id', 'after'],
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
            required: ['result', 'stateAfter', 'checkedAt'],
            properties: {
              result: { type: 'string', enum: DEVICE_RESULTS },
              stateAfter: nullableString,
              checkedAt: { type: 'string' },
            },
          },
          policy: {
            type: 'object',
            description: 'Device policy only: the profile and 1-based rule that chose the actions',
            properties: { profile: { type: 'string' }, rule: { type: 'integer' } },
          },
          actions: {
            type: 'array',
            description: 'Device policy only: the actions in order, each with its result and verification',
            items: {
              type: 'object',
              additionalProperties: true,
              required: ['action', 'state', 'status', 'requestId', 'at', 'verification'],
              properties: {
                action: { type: 'string', enum: DEVICE_ACTIONS },
                state: { type: 'string', enum: DEVICE_ACTION_STATES },
                status: { type: ['integer', 'null'] },
                requestId: nullableString,
                at: nullableString,
                graphCode: { type: 'string' },
                message: { type: 'string' },
                verification: {
                  type: ['object', 'null'],
                  additionalProperties: true,
                  properties: {
                    result: { type: 'string', enum: DEVICE_ACTION_VERIFICATIONS },
                    stateAfter: nullableString,
                    actionState: nullableString,
                    checkedAt: { type: 'string' },
                    note: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
    devicePolicy: { type: 'string', description: 'Device policy only: the profile the job ran under' },
    verification: {
      type: 'object',
      additionalProperties: true,
      required: ['state', 'checks'],
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
  title: 'DeadLetter',
  type: 'object',
  additionalProperties: true,
  required: [
    'id',
    'originalJobId',
    'reason',
    'lastStatus',
    'attempts',
    'throttledWaits',
    'deadLetteredAt',
    'original',
  ],
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
    deviceActions: deviceActionResults,
    failedDevices: {
      type: 'array',
      items: { type: 'string' },
      description: 'Reason partial: the devices that failed',
    },
  },
} as const;

/** A finished job's result (RetireRecord in src/interfaces.ts). */
export const retireRecord = {
  title: 'RetireRecord',
  type: 'object',
  additionalProperties: true,
  required: [
    'outcome',
    'user',
    'attempts',
    'throttledWaits',
    'durationMs',
    'finishedAt',
    'requestedBy',
    'correlationId',
    'dryRun',
  ],
  properties: {
    outcome: { type: 'string', enum: OUTCOMES },
    user: { type: 'string' },
    requestId: { type: 'string', description: 'Graph request-id of the retire call' },
    attempts: { type: 'integer', description: 'Graph calls made for this job' },
    throttledWaits: { type: 'integer' },
    durationMs: { type: 'number' },
    finishedAt: { type: 'string' },
    requestedBy: { type: 'string' },
    correlationId: { type: 'string' },
    dryRun: { type: 'boolean' },
    devices: { type: 'integer', description: 'With evidence on: managed devices the inventory found' },
    deviceActions: deviceActionResults,
    devicePolicy: { type: 'string', description: 'With a device policy: the profile that applied' },
  },
} as const;

export const jobView = {
  title: 'JobView',
  type: 'object',
  additionalProperties: true,
  required: [
    'id',
    'state',
    'user',
    'data',
    'attempts',
    'progress',
    'record',
    'failedReason',
    'timestamps',
    'deadLetter',
    'history',
    'evidence',
  ],
  properties: {
    id: { type: 'string' },
    state: {
      type: 'string',
      enum: JOB_STATES,
      description: 'BullMQ state of the job, or dead-lettered',
    },
    user: { type: 'string' },
    data: looseObject,
    attempts: {
      type: 'object',
      required: ['made', 'max', 'graphCalls', 'throttledWaits'],
      properties: {
        made: { type: 'integer' },
        max: { type: ['integer', 'null'] },
        graphCalls: { type: 'integer' },
        throttledWaits: { type: 'integer' },
      },
    },
    progress: { type: ['object', 'null'], additionalProperties: true },
    record: { anyOf: [retireRecord, { type: 'null' }], description: 'The result when finished' },
    failedReason: { type: ['string', 'null'] },
    timestamps: {
      type: 'object',
      required: ['createdAt', 'runAt', 'processedAt', 'finishedAt'],
      properties: {
        createdAt: nullableString,
        runAt: nullableString,
        processedAt: nullableString,
        finishedAt: nullableString,
      },
    },
    deadLetter: { anyOf: [deadLetterView, { type: 'null' }] },
    history: { type: 'array', items: auditRecord },
    evidence: {
      anyOf: [evidenceView, { type: 'null' }],
      description: 'Devices before, the action, each device after, the verification; null without evidence',
    },
  },
} as const;

export const cancelResult = {
  title: 'Cancellation',
  type: 'object',
  additionalProperties: true,
  required: ['id', 'user', 'state', 'previousState'],
  properties: {
    id: { type: 'string' },
    user: { type: 'string' },
    state: { type: 'string', enum: ['cancelled'] },
    previousState: { type: 'string', enum: JOB_STATES },
  },
} as const;

const counts = { type: 'object', additionalProperties: { type: 'integer' } } as const;

/** One schedule's health in GET /v1/queues (src/schedule/sweep-status.ts scheduleHealth). */
const scheduleHealthView = {
  type: 'object',
  required: ['state', 'lastSuccessAt', 'lastFailureAt', 'lastFailureReason'],
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
  title: 'QueueStatus',
  type: 'object',
  additionalProperties: true,
  required: ['retire', 'deadLetter', 'notify', 'schedules', 'paused', 'pause', 'circuit', 'throttle'],
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
      required: ['reason', 'actor', 'at'],
      properties: { reason: { type: 'string' }, actor: { type: 'string' }, at: { type: 'string' } },
    },
    circuit: {
      type: 'object',
      additionalProperties: true,
      required: ['open'],
      properties: {
        open: { type: 'boolean' },
        code: {
          type: 'string',
          description:
            'Why it opened: unauthorized, forbidden_many, permission_missing, read_permission_missing, request_rejected, token_endpoint_unavailable, or a token endpoint error code (invalid_client, consent_required, …)',
        },
        reason: { type: 'string' },
        openedAt: { type: 'string' },
        openedBy: { type: 'string' },
      },
    },
    throttle: {
      type: 'object',
      additionalProperties: true,
      required: ['ratePerSecond', 'factor', 'pausedUntil', 'configured'],
      properties: {
        ratePerSecond: { type: 'number' },
        factor: { type: 'number' },
        pausedUntil: { type: ['string', 'null'] },
        configured: looseObject,
      },
    },
  },
} as const;
