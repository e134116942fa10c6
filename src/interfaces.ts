// Central types shared by every concept folder. Producers, workers, the API and the CLI
// all speak these shapes, so they live in one place (graphile-worker's interfaces.ts model).

/** Where a request entered the system; recorded with every job for the audit trail. */
export type Source = 'api' | 'batch' | 'cli' | 'import' | 'schedule' | 'redrive' | 'demo';

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
}

export type Outcome = 'retired' | 'dry_run';

/** Why a job ended in the dead-letter queue. Callers branch on these, never on messages. */
export type DeadLetterReason =
  | 'retries_exhausted'
  | 'throttled_exhausted'
  | 'bad_request'
  | 'not_found'
  | 'forbidden'
  | 'invalid_job';

/** One HTTP call to Graph for a job, kept because a retried POST may already have applied. */
export interface AttemptRecord {
  at: string;
  status: number | null;
  /** Graph `request-id` response header or `error.innerError.request-id`. */
  requestId?: string;
  clientRequestId: string;
  durationMs: number;
  /** Error class name when the call failed (e.g. `GraphThrottledError`, `GraphTimeoutError`). */
  error?: string;
  code?: string;
}

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
}

/** Data of a job on the `dead-letter` queue. Its job id is `dl:<original job id>`. */
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
}

/** Progress object kept on a retire job: survives BullMQ retries, so counts are per job. */
export interface RetireProgress {
  graphCalls: number;
  throttledWaits: number;
  lastStatus: number | null;
  lastRequestId?: string;
  firstAttemptAt?: string;
}

export type AuditType =
  | 'requested'
  | 'duplicate'
  | 'attempt'
  | 'throttled'
  | 'retired'
  | 'dry_run'
  | 'dead-lettered'
  | 'redriven'
  | 'discarded'
  | 'cancelled'
  | 'rescheduled'
  | 'held'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'paused'
  | 'resumed'
  | 'circuit-open'
  | 'sweep';

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
