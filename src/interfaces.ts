// Central types shared by every concept folder. Producers, workers, the API and the CLI
// all speak these shapes, so they live in one place (graphile-worker's interfaces.ts model).
//
// Glossary: the words below mean one thing everywhere in the code, the docs and the records.
//
// job            One request to retire one leaver's devices: a BullMQ job on the `retire` queue
//                (RetireJobData). At most one pending job per user and kind (real or dry run).
// attempt        BullMQ's word: one durable try of a job by a worker (`job.attemptsMade`). A try
//                can make several Graph calls (in-call retries) and ends in success, a retry
//                later (backoff), or a terminal outcome.
// record.attempts  Not BullMQ's attempts: the number of Graph calls made for the job, across all
//                its BullMQ attempts (RetireRecord.attempts, DeadLetterData.attempts; the progress
//                counter is RetireProgress.graphCalls). Every call is also an `attempt` audit entry.
// throttled wait A 429 answered with Retry-After: the job waits out the announced time (the whole
//                fleet does) and keeps its place. Counted in `throttledWaits`, never charged to the
//                failure budget; a separate cap ends it as `throttled_exhausted`.
// dead letter    A job that needs a human: a copy on the `dead-letter` queue with the reason
//                (DEAD_LETTER_REASONS), last status and Graph ids. Redrive makes a new job of it;
//                discard ends it. Both are audited.
// batch          A bulk submission (batch API, CSV import, sweep, CLI with several users) kept
//                together under one `batchId`; the guard stores it when it must wait.
// held           A batch waiting for an operator's approval because it is larger than
//                GUARD_THRESHOLD or would pass it within the window. Nothing of it is enqueued
//                until approval; rejected or expired (GUARD_TTL) batches enqueue nothing.
// window         GUARD_WINDOW, the guard's rolling window: distinct users accepted without
//                approval per actor (and in total) within it count against GUARD_THRESHOLD, so a
//                split batch is still caught. (Rate windows such as `200/20s` and VERIFY_WINDOW
//                are named with their own prefix.)
// actor          Who acted, as recorded in the audit: an API key name, the CLI's `--as` name (by
//                default the OS user), `schedule:<name>`, `worker:<pid>`, or `guard` for an expiry.
//                The two-person rule compares actors.
// source         Where a request entered (SOURCES): api, batch, cli, import, schedule, redrive, demo.
// dry run        A job that runs the whole pipeline but calls nothing destructive (`dryRun: true`
//                on a request, `--dry-run-jobs`, or DRY_RUN=true); it ends with outcome `dry_run`.
// inventory      The leaver's managed devices read from Graph right before the retire (a read, paced
//                by the read pacer, never a write slot). Zero devices: outcome `no_devices`, no POST.
// verification   Re-reads of the devices after the action (`verify` queue), from VERIFY_AFTER until
//                VERIFY_WINDOW: per device retired / failed / not_retired; per leaver `verified`
//                (every inventoried device gone or retired) or `unverified`. Under a device policy, per
//                device × action: verified / pending / failed / not_verified (Verification.actions).
// evidence       What proves a retirement: the inventory, the action (time, request-id) and the
//                verification, kept per job (EvidenceRecord) and exported one row per device.
// plan           A preview that enqueues nothing (`offboard import --dry-run`/`--plan`, `enqueue
//                --dry-run`): per row new / duplicate / invalid and whether the guard would hold
//                it. A plan creates no job, a dry run does.
// front door     src/front-door/: where every producer (API, CLI, CSV import, sweeps, console)
//                submits leavers (submitOne, submitBulk, the streaming stageAndDecide/planBulk).
//                A request is validated once there, then the guard decides, then intake/ writes
//                the job. Nothing else turns outside input into a job.
// device actions src/device-actions/: a device policy's execution per device (wipe, retire, delete,
//                Autopilot deregistration), each recorded before its call; encrypted bypass codes.
// value check    src/values/: the small checks of one value (user, callback path, time zone, free
//                text) and InvalidRequestError. A leaf folder: it imports none of ours, so worker,
//                notify, schedule and the CLI use it without reaching up into intake/.
// device policy src/device-policy/: DEVICE_POLICY_FILE's profiles of rules (match → actions) deciding
//                per device retire / wipe / delete / autopilot-deregister / none; loaded and linted
//                at start (every problem at once), applied by planDevices (worker, plans, explain).
// tenant         src/tenants/: one customer tenant of TENANTS_FILE (slug + Entra id) with its own
//                token cache, pacers, gate and circuit (keys `…:tenant:<name>:…`); its jobs are
//                admitted without blocking a worker slot (dispatch.ts) and resumed alone.
// sim tenant     src/sim/tenants/: an Entra tenant behind the simulator's one app (its own authority,
//                token `tid`, limits, consent, 429 switch and counters); not the product's tenants/.

/** Where a request entered the system; recorded with every job for the audit trail. */
export const SOURCES = ['api', 'batch', 'cli', 'import', 'schedule', 'redrive', 'demo'] as const;
export type Source = (typeof SOURCES)[number];

/** Payload of a job on the `retire` queue. Everything needed to act and to prove it later. */
export interface RetireJobData {
  /** Normalised user: lower-case GUID or lower-case UPN. */
  user: string;
  reason?: string;
  /** ISO 8601 instant the leaver should be retired at; absent = now. */
  effectiveAt?: string;
  /** Process the whole pipeline but never call Graph's destructive action. */
  dryRun: boolean;
  correlationId: string;
  /** Actor: API key name, CLI `--as` name, or `schedule:<name>`. */
  requestedBy: string;
  requestedAt: string;
  source: Source;
  /** Set when the job came from a bulk submission (batch API, import, sweep). */
  batchId?: string;
  /** Set when the job was redriven from the dead-letter queue. */
  redrivenFrom?: string;
  /**
   * Lifecycle Workflows resume path (`/identityGovernance/lifecycleWorkflows/workflows/{id}/tasks/{id}/
   * taskProcessingResults/{id}/microsoft.graph.identityGovernance.resume`), a path on GRAPH_BASE_URL:
   * offboard reports the final outcome to it.
   */
  callbackUriPath?: string;
  /**
   * Further resume paths attached later by duplicate requests for the same pending job (at most
   * MAX_CALLBACKS_PER_JOB in all, src/values/callback-path.ts); each is resumed with this job's outcome.
   */
  callbackUriPaths?: string[];
  /**
   * Device policy profile (DEVICE_POLICY_FILE) naming what happens to each device; absent = the
   * file's default, or with no policy file the one `removeAllDevicesFromManagement` of today.
   */
  devicePolicy?: string;
  /** Tenant slug (TENANTS_FILE); absent = the deployment's single AZURE_TENANT_ID. */
  tenant?: string;
}

/**
 * The states a retire job reads as (API, CLI, console): BullMQ's job states, plus `dead-lettered`
 * for a job that was moved to the dead-letter queue. The one list the API schemas use.
 */
export const JOB_STATES = [
  'waiting',
  'delayed',
  'prioritized',
  'paused',
  'waiting-children',
  'active',
  'completed',
  'failed',
  'dead-lettered',
  'unknown',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/** How a retire job ended when it did not need a human. `no_devices`: the inventory was empty, no POST sent. */
export const OUTCOMES = ['retired', 'no_devices', 'dry_run', 'completed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * Why a job ended in the dead-letter queue. Callers branch on these, never on messages. The one
 * list: the API schemas, the CLI's `--reason` and the console's filter all use it.
 */
export const DEAD_LETTER_REASONS = [
  'retries_exhausted',
  'throttled_exhausted',
  'bad_request',
  'not_found',
  'forbidden',
  'invalid_job',
  // a device policy's actions ended with some devices failed (the record names them)
  'partial',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** Job return value of a finished retire job. */
export interface RetireRecord {
  outcome: Outcome;
  user: string;
  requestId?: string;
  /** Graph calls made for this job across all BullMQ attempts (each recorded in the audit). */
  attempts: number;
  throttledWaits: number;
  durationMs: number;
  finishedAt: string;
  requestedBy: string;
  correlationId: string;
  dryRun: boolean;
  /** With evidence on: how many managed devices the inventory found (details in the EvidenceRecord). */
  devices?: number;
  /** With a device policy: every device × action with its result (`planned` in a dry run). */
  deviceActions?: DeviceActionResult[];
  /** With a device policy: the profile that applied. */
  devicePolicy?: string;
}

/** What a device policy can do to one managed device; `none` leaves the device alone. */
export const DEVICE_ACTIONS = ['retire', 'wipe', 'delete', 'autopilot-deregister', 'none'] as const;
export type DeviceActionName = (typeof DEVICE_ACTIONS)[number];

/** Parameters of Graph's `managedDevice: wipe` action (v1.0), as a policy rule sets them. */
export interface WipeOptions {
  keepEnrollmentData?: boolean;
  keepUserData?: boolean;
  macOsUnlockCode?: string;
  persistEsimDataPlan?: boolean;
}

/** One action of a device's plan, in order. */
export interface DeviceActionStep {
  action: Exclude<DeviceActionName, 'none'>;
  /** For `wipe`. */
  wipe?: WipeOptions;
  /** For `wipe` of a supervised Apple device: read the Activation Lock bypass code first. */
  captureActivationLockBypass?: boolean;
}

/** What the policy decided for one inventoried device (empty `actions`: `none`). */
export interface DevicePlan {
  deviceId: string;
  deviceName?: string | null;
  operatingSystem?: string | null;
  serialNumber?: string | null;
  managedDeviceOwnerType?: string | null;
  /** The profile and the 1-based rule that matched. */
  profile: string;
  rule: number;
  actions: DeviceActionStep[];
}

/**
 * One device × action's state, written BEFORE the call (`sending`) so a crash never repeats a
 * wipe blindly: `done` (2xx), `gone` (404: counts as done), `failed` (its own failure; the other
 * devices go on), `skipped` (an earlier action of the same device failed).
 */
export const DEVICE_ACTION_STATES = ['planned', 'sending', 'done', 'gone', 'failed', 'skipped'] as const;
export type DeviceActionState = (typeof DEVICE_ACTION_STATES)[number];

export interface DeviceActionResult {
  deviceId: string;
  action: Exclude<DeviceActionName, 'none'>;
  state: DeviceActionState;
  status?: number;
  requestId?: string;
  graphCode?: string;
  message?: string;
  at?: string;
}

/** A managed device as the inventory reads it (Graph `managedDevice`, the $select fields). */
export interface ManagedDevice {
  id: string;
  deviceName?: string | null;
  operatingSystem?: string | null;
  osVersion?: string | null;
  model?: string | null;
  manufacturer?: string | null;
  serialNumber?: string | null;
  /** e.g. managed, retirePending, retireIssued, retireFailed, retireCanceled. */
  managementState?: string | null;
  /** Graph v1.0 `managedDeviceOwnerType`: company, personal, unknown (the evidence CSV's `ownerType` column). */
  managedDeviceOwnerType?: string | null;
  complianceState?: string | null;
  lastSyncDateTime?: string | null;
  enrolledDateTime?: string | null;
  /** v1.0 `deviceEnrollmentType` (a policy's `enrollmentType` match). */
  deviceEnrollmentType?: string | null;
  /** v1.0 `isSupervised` (a policy's `supervised` match). */
  isSupervised?: boolean | null;
}

/** A leaver's devices as the inventory read them before the action (every page). */
export interface DeviceInventory {
  at: string;
  devices: ManagedDevice[];
  /** Graph request-id of each page. */
  requestIds: string[];
  pages: number;
}

/**
 * What became of one inventoried device. `pending`: still checking (managed, retirePending,
 * retireIssued); `retired`: gone from the list; `failed`: retireFailed or retireCanceled;
 * `not_retired`: still there when VERIFY_WINDOW ended (a device that never checks in).
 */
export const DEVICE_RESULTS = ['pending', 'retired', 'failed', 'not_retired'] as const;
export type DeviceResult = (typeof DEVICE_RESULTS)[number];

export interface DeviceCheck {
  deviceId: string;
  result: DeviceResult;
  /** managementState at the latest read; null when the device was gone from the list. */
  stateAfter: string | null;
  checkedAt: string;
  /** Why the result is what it is when the reads could not tell (e.g. reads failed until the deadline). */
  note?: string;
}

/** A leaver's verification: `pending` while reads go on, then `verified` or `unverified`. */
export const VERIFICATION_STATES = ['pending', 'verified', 'unverified', 'not_applicable'] as const;
export type VerificationState = (typeof VERIFICATION_STATES)[number];

export interface Verification {
  state: VerificationState;
  /** Verification reads made so far. */
  checks: number;
  lastCheckedAt?: string;
  nextCheckAt?: string;
  /** Reads stop at this instant (action time + VERIFY_WINDOW). */
  deadline?: string;
  /** When the state became verified or unverified. */
  endedAt?: string;
  devices: DeviceCheck[];
  /** Reverify rounds asked by operators (0 or absent: the first); verify jobs of an older round stop. */
  round?: number;
  /** Devices listed after the action that the inventory did not have (enrolled since): not judged. */
  unexpectedDevices?: string[];
  /**
   * Device policy only: one check per device × action (`devices` then holds each device's summary:
   * every action verified → retired, any pending → pending, any failed → failed, else not_retired).
   */
  actions?: DeviceActionCheck[];
}

/**
 * What became of one device × action of a device policy: `verified` (retire/wipe: gone, or the
 * action's deviceActionResults `done`; delete: the device read answers 404; autopilot-deregister: no
 * identity with the serial), `pending` (still checking), `failed` (the action failed or was skipped,
 * or Graph reports it failed), `not_verified` (still not proven when VERIFY_WINDOW ended).
 */
export const DEVICE_ACTION_VERIFICATIONS = ['pending', 'verified', 'failed', 'not_verified'] as const;
export type DeviceActionVerification = (typeof DEVICE_ACTION_VERIFICATIONS)[number];

export interface DeviceActionCheck {
  deviceId: string;
  action: Exclude<DeviceActionName, 'none'>;
  result: DeviceActionVerification;
  /** managementState at the latest read; null when the device was gone (404). */
  stateAfter: string | null;
  /** The action's deviceActionResults actionState at the latest read, when Graph listed it. */
  actionState?: string | null;
  checkedAt: string;
  /** Why the result is what it is when the reads could not tell. */
  note?: string;
}

/**
 * Proof of one retire job, kept apart from the BullMQ job (EVIDENCE_RETENTION outlives job retention):
 * the inventory before, the action, and the verification after.
 */
export interface EvidenceRecord {
  jobId: string;
  user: string;
  batchId?: string;
  /** The job's tenant (TENANTS_FILE): the evidence export of a tenant-scoped key filters on it. */
  tenant?: string;
  requestedBy: string;
  correlationId: string;
  source: Source;
  inventoriedAt: string;
  /** Graph request-ids of the inventory reads (one per page). */
  inventoryRequestIds: string[];
  devices: ManagedDevice[];
  /** The retire POST; absent when none was sent (no_devices, dry_run). */
  action?: { at: string; requestId?: string; status: number };
  outcome: Outcome;
  verification: Verification;
  /** Device policy only: the plan the job ran (per device, its actions in order). */
  devicePlan?: DevicePlan[];
  /** Device policy only: each device × action's result (time, status, request-id). */
  deviceActions?: DeviceActionResult[];
}

/** Payload of a job on the `verify` queue: which retire job's evidence to re-read. */
export interface VerifyJobData {
  jobId: string;
  user: string;
  /** Verification.round this job checks for; a job of an older round does nothing. */
  round?: number;
}

/** Data of a job on the `dead-letter` queue. Its job id is `dl-<original job id>` (queue/names.ts `deadLetterId`). */
export interface DeadLetterData {
  original: RetireJobData;
  originalJobId: string;
  reason: DeadLetterReason;
  lastStatus: number | null;
  graphCode?: string;
  graphMessage?: string;
  requestId?: string;
  attempts: number;
  throttledWaits: number;
  firstAttemptAt?: string;
  deadLetteredAt: string;
  /** Reason `partial` (device policy): every device × action with its result. */
  deviceActions?: DeviceActionResult[];
  /** Reason `partial`: the devices whose actions failed. */
  failedDevices?: string[];
}

/** Progress object kept on a retire job: survives BullMQ retries, so counts are per job. */
export interface RetireProgress {
  graphCalls: number;
  throttledWaits: number;
  lastStatus: number | null;
  lastRequestId?: string;
  firstAttemptAt?: string;
  /** With evidence on: the inventory once read, so a retry of the POST does not read again. */
  inventory?: DeviceInventory;
  /** A 400 was put aside once because too few users had been called to judge it (request_rejected). */
  rejectedDeferred?: boolean;
  /** With a device policy: the plan once made, so a retry acts on the same plan (src/device-actions). */
  devicePlan?: DevicePlan[];
}

/** Every kind of audit entry: the one list (the CLI's `audit export --type` reads it too). */
export const AUDIT_TYPES = [
  'requested',
  'duplicate',
  'attempt',
  'throttled',
  'retired',
  'dry_run',
  'dead-lettered',
  // device policy (DEVICE_POLICY_FILE): one entry per device × action call, and the leaver's end
  'device-action',
  'completed',
  // an operator read an encrypted secret (Activation Lock bypass code) through the audited command
  'secret-read',
  'redriven',
  'discarded',
  'cancelled',
  'rescheduled',
  'held',
  'approved',
  'rejected',
  'expired',
  'paused',
  'resumed',
  'circuit-open',
  'sweep',
  // a plan (console Check, `import --plan`): who looked at which users' state, nothing changed
  'planned',
  // evidence (src/evidence)
  'inventory',
  'no_devices',
  'verification',
  'verified',
  'unverified',
  'reverify',
  // outcome notifications (src/notify): webhooks and Lifecycle Workflows resume calls
  'notified',
  'notify-failed',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export interface AuditEntry {
  type: AuditType;
  actor: string;
  at: string;
  jobId?: string;
  user?: string;
  correlationId?: string;
  /** Small free-form object (status, reason, request id, counts). Never secrets. */
  details?: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  /** Redis stream entry id. */
  id: string;
}

/** Systemic failure state shared through Redis; while open the retire queue is paused. */
export interface CircuitState {
  open: boolean;
  reason?: string;
  /** Machine-readable cause, e.g. `invalid_client`, `unauthorized`, `forbidden_many`, `token_endpoint_unavailable`. */
  code?: string;
  openedAt?: string;
  openedBy?: string;
}

/** Acquires bearer tokens for Graph. One in-flight acquisition per process (single-flight). */
export interface TokenProvider {
  getToken(opts?: { forceRefresh?: boolean }): Promise<string>;
  /**
   * Forgets cached tokens and cached failures. MSAL replays a 429/5xx from the token endpoint for
   * up to 60 s without asking again; after an operator fixed the cause and resumed, that replay
   * would open the circuit again at once.
   */
  reset?(): void;
  close?(): Promise<void>;
}

/** What a successful Graph call returns. */
export interface GraphSuccess {
  status: number;
  requestId?: string;
  clientRequestId: string;
  durationMs: number;
}
