// Schemas of the intake and job routes. The intake library (validateRequest) checks the meaning
// (GUID or UPN, real instant, no control characters); these check the shape at the door.
import { BATCH_STATES } from '../../guard/types.js';
import { JOB_STATES, SOURCES } from '../../interfaces.js';
import { CALLBACK_PATH_MAX, CALLBACK_PATH_PATTERN } from '../../values/callback-path.js';
import { TENANT_NAME_PATTERN } from '../../values/tenant.js';
import { FREE_TEXT_PATTERN } from '../../values/text.js';

/** TENANTS_FILE: which tenant the leaver belongs to. */
export const tenantField = {
  type: 'string',
  maxLength: 63,
  pattern: TENANT_NAME_PATTERN,
  description:
    "The tenant (TENANTS_FILE name) the leaver belongs to. Required when several tenants are configured (400 when missing); refused without a tenants file; 403 outside the key's tenants",
} as const;

export const MAX_BATCH_ITEMS = 10_000;

/** No control, invisible, bidi-override or non-ASCII space characters anywhere in a user. */
export const USER_CHARS =
  '^[^\\u0000-\\u001f\\u007f-\\u00a0\\u1680\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\ufeff]*$';
/** Free text: one line, no control (tabs and new lines included) or invisible characters. */
export const TEXT_CHARS = FREE_TEXT_PATTERN;

/** A leaver as the API takes it, in a body or a query (validated again by intake). */
export const userField = {
  type: 'string',
  minLength: 1,
  maxLength: 320,
  pattern: USER_CHARS,
  description: 'Entra object id (GUID) or userPrincipalName',
} as const;

/** A device policy profile name (DEVICE_POLICY_FILE); a named component for generated clients. */
export const devicePolicyField = {
  title: 'DevicePolicyName',
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
} as const;

export const offboardingRequest = {
  title: 'OffboardingRequest',
  type: 'object',
  additionalProperties: false,
  required: ['user'],
  properties: {
    user: { ...userField, examples: ['alice@contoso.com'] },
    reason: {
      type: ['string', 'null'],
      maxLength: 500,
      pattern: TEXT_CHARS,
      description: 'Free text kept with the job',
    },
    effectiveAt: {
      type: ['string', 'null'],
      maxLength: 64,
      description: 'ISO 8601 date-time with an offset; a future instant delays the job until then',
      examples: ['2026-12-01T17:00:00+01:00'],
    },
    dryRun: {
      type: 'boolean',
      description: 'Process everything but never call the destructive Graph action',
    },
    correlationId: {
      type: ['string', 'null'],
      pattern: '^[A-Za-z0-9._:@/-]{1,128}$',
      description: 'Your reference (ticket id); defaults to the request id',
    },
    tenant: tenantField,
    callbackUriPath: {
      type: ['string', 'null'],
      maxLength: CALLBACK_PATH_MAX,
      pattern: CALLBACK_PATH_PATTERN,
      description:
        'Lifecycle Workflows custom task extension: the callbackUriPath Entra sent (a path on GRAPH_BASE_URL, never a URL). offboard resumes the task with completed or failed when the outcome is final (failed, saying nothing was retired, under a global DRY_RUN). Not allowed with dryRun: true (400)',
      examples: [
        '/identityGovernance/lifecycleWorkflows/workflows/0a1b2c3d-0000-4000-8000-000000000001/tasks/0a1b2c3d-0000-4000-8000-000000000002/taskProcessingResults/0a1b2c3d-0000-4000-8000-000000000003/microsoft.graph.identityGovernance.resume',
      ],
    },
    devicePolicy: {
      ...devicePolicyField,
      description:
        'Device policy profile (DEVICE_POLICY_FILE) deciding what happens to each device; absent = the policy’s default. 400 without a policy file or for an unknown profile; 403 when this key may not name it (API_KEYS)',
    },
  },
} as const;

/** The states an intake answer names: the job's, or `held` for a request waiting for approval. */
export const INTAKE_STATES = [...JOB_STATES, 'held'] as const;

export const enqueueResult = {
  title: 'EnqueueResult',
  type: 'object',
  additionalProperties: true,
  required: ['id', 'user', 'state', 'duplicate'],
  properties: {
    id: { type: 'string', description: 'The job that will run (for a held request: the batch id)' },
    user: { type: 'string' },
    state: {
      type: 'string',
      enum: INTAKE_STATES,
      description:
        'waiting or delayed; for a duplicate the state of the pending job that will run; held when the request waits for approval',
    },
    duplicate: { type: 'boolean' },
    effectiveAt: { type: 'string', description: 'When the job that will run is due (absent: at once)' },
    broughtForward: {
      type: 'boolean',
      description: 'A pending job of this user was due later and now runs at this request’s moment',
    },
    callbackAttached: {
      type: 'boolean',
      description:
        'A duplicate that carried callbackUriPath: true when the pending job will also resume that task with its outcome',
    },
    callbackReason: {
      type: 'string',
      enum: ['attached', 'already_attached', 'job_running', 'job_finished', 'job_gone', 'limit_reached'],
      description:
        'Why callbackAttached is what it is (limit_reached: 10 callbacks already wait on this job)',
    },
    devicePolicy: {
      ...devicePolicyField,
      description:
        'With DEVICE_POLICY_FILE: the profile that will apply to the leaver’s devices (for a duplicate, the pending job’s: the first request’s profile is kept)',
    },
    requestedDevicePolicy: {
      ...devicePolicyField,
      description: 'A duplicate that asked for another profile than the pending job’s: the one asked for',
    },
    batchId: { type: 'string', description: 'Held for approval: the batch to approve (see /v1/batches)' },
    heldBecause: { type: 'string', enum: ['threshold', 'window'] },
  },
} as const;

export const batchRequest = {
  title: 'BatchRequest',
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BATCH_ITEMS,
      // Each item is checked on its own so one bad item never blocks the others; the OpenAPI
      // document shows the item schema (see batchRequestDoc).
      items: {},
    },
    dryRun: { type: 'boolean', description: 'Every job of this batch records outcome dry_run' },
    tenant: {
      ...tenantField,
      description: 'TENANTS_FILE: the tenant of every item (items may repeat it); a batch is for one tenant',
    },
  },
} as const;

/** What the OpenAPI document shows for the batch body. */
export const batchRequestDoc = {
  ...batchRequest,
  properties: {
    ...batchRequest.properties,
    items: { ...batchRequest.properties.items, items: offboardingRequest },
  },
} as const;

export const bulkItemResult = {
  title: 'BulkItemResult',
  type: 'object',
  additionalProperties: true,
  required: ['index', 'status'],
  properties: {
    index: { type: 'integer' },
    status: { type: 'string', enum: ['accepted', 'duplicate', 'invalid'] },
    id: { type: 'string' },
    user: { type: 'string' },
    state: { type: 'string', enum: JOB_STATES },
    duplicate: { type: 'boolean' },
    effectiveAt: { type: 'string' },
    callbackAttached: {
      type: 'boolean',
      description:
        'A duplicate that carried callbackUriPath: true when the pending job will also resume that task with its outcome',
    },
    callbackReason: {
      type: 'string',
      enum: ['attached', 'already_attached', 'job_running', 'job_finished', 'job_gone', 'limit_reached'],
      description:
        'Why callbackAttached is what it is (limit_reached: 10 callbacks already wait on this job)',
    },
    devicePolicy: {
      ...devicePolicyField,
      description:
        'With DEVICE_POLICY_FILE: the profile that will apply to the leaver’s devices (for a duplicate, the pending job’s: the first request’s profile is kept)',
    },
    requestedDevicePolicy: {
      ...devicePolicyField,
      description: 'A duplicate that asked for another profile than the pending job’s: the one asked for',
    },
    error: { type: 'string', description: 'Why an invalid item was refused' },
  },
} as const;

export const batchSummary = {
  title: 'BatchSummary',
  type: 'object',
  additionalProperties: true,
  required: [
    'id',
    'state',
    'source',
    'submittedBy',
    'createdAt',
    'expiresAt',
    'count',
    'invalid',
    'duplicate',
    'dryRun',
    'sample',
  ],
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: BATCH_STATES },
    source: { type: 'string', enum: SOURCES },
    submittedBy: { type: 'string' },
    createdAt: { type: 'string' },
    expiresAt: { type: 'string' },
    count: { type: 'integer' },
    invalid: { type: 'integer' },
    duplicate: { type: 'integer' },
    dryRun: { type: 'boolean' },
    sample: { type: 'array', items: { type: 'string' } },
    tenant: { type: 'string', description: 'TENANTS_FILE: the tenant of every item' },
    decidedBy: { type: 'string' },
    decidedAt: { type: 'string' },
    reason: { type: 'string' },
    enqueued: { type: 'integer' },
    result: { type: 'object', additionalProperties: true },
    kind: {
      type: 'string',
      enum: ['wipe'],
      description:
        'wipe: leavers held because their devices to wipe or delete would pass GUARD_WIPE_THRESHOLD within GUARD_WINDOW; the items list each device with its actions',
    },
    devices: {
      type: 'integer',
      description: 'A wipe batch: devices to wipe or delete, over all its leavers',
    },
  },
} as const;

export const batchResponse = {
  title: 'BatchResponse',
  type: 'object',
  additionalProperties: true,
  required: ['held', 'summary'],
  properties: {
    held: { type: 'boolean', description: 'true: over GUARD_THRESHOLD, waiting for approval' },
    summary: {
      type: 'object',
      required: ['accepted', 'duplicate', 'invalid', 'held'],
      properties: {
        accepted: { type: 'integer' },
        duplicate: { type: 'integer' },
        invalid: { type: 'integer' },
        held: { type: 'integer' },
      },
    },
    results: { type: 'array', items: bulkItemResult, description: 'Not held: one result per item' },
    batch: { ...batchSummary, description: 'Held: the batch to approve' },
    invalid: { type: 'array', items: bulkItemResult },
  },
} as const;
