// Outcome events: what offboard tells the systems that asked (WEBHOOK_URLS) and the Lifecycle
// Workflows run that is waiting (callbackUriPath) when a leaver's outcome is final. The builders turn
// a retire record, a dead letter or a verification into one event; the event id is derived from the
// job and the type, so an event emitted again after a crash is the same event.
import { createHash } from 'node:crypto';
import type {
  DeadLetterReason,
  EvidenceRecord,
  Outcome,
  RetireJobData,
  RetireRecord,
} from '../interfaces.js';
import { callbackPaths } from '../values/callback-path.js';

export const OUTCOME_EVENT_TYPES = [
  'offboarding.retired',
  'offboarding.completed',
  'offboarding.no_devices',
  'offboarding.dry_run',
  'offboarding.dead_lettered',
  'offboarding.verified',
  'offboarding.unverified',
] as const;
export type OutcomeEventType = (typeof OUTCOME_EVENT_TYPES)[number];

/** What an event says about the leaver. No free text from the request (it may hold personal data). */
export interface OutcomeEventData {
  jobId: string;
  user: string;
  /** retired, no_devices, dry_run, dead_lettered, verified or unverified. */
  outcome: string;
  /** Dead letters: the reason (DEAD_LETTER_REASONS). */
  reason?: string;
  correlationId: string;
  requestedBy: string;
  source?: string;
  batchId?: string;
  /** Graph request-id of the retire action (support needs it). */
  requestId?: string;
  /** Managed devices the inventory found (evidence on). */
  devices?: number;
  /** Dead letters: the last HTTP status Graph answered. */
  lastStatus?: number | null;
  /** Verification: devices retired / still there / failed when it ended. */
  verification?: { retired: number; notRetired: number; failed: number; checks: number };
}

/** An outcome as the worker hands it to emitOutcome. */
export interface OutcomeEvent {
  type: OutcomeEventType;
  /** ISO instant of the outcome. */
  occurredAt: string;
  data: OutcomeEventData;
  /** Lifecycle Workflows resume path of the job (never sent to webhooks). */
  callbackUriPath?: string;
  /** Further resume paths attached by duplicate requests (RetireJobData.callbackUriPaths). */
  callbackUriPaths?: string[];
}

/** The JSON body a webhook destination receives. */
export interface WebhookEvent {
  id: string;
  type: OutcomeEventType;
  occurredAt: string;
  data: OutcomeEventData;
}

export function shortHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** Stable across re-emissions and redeliveries: the same job and type are the same event. */
export function eventIdFor(jobId: string, type: OutcomeEventType): string {
  return `evt_${shortHash(jobId, type)}`;
}

export function toWebhookEvent(event: OutcomeEvent): WebhookEvent {
  return {
    id: eventIdFor(event.data.jobId, event.type),
    type: event.type,
    occurredAt: event.occurredAt,
    data: event.data,
  };
}

function common(jobId: string, data: RetireJobData) {
  return {
    jobId,
    user: data.user,
    correlationId: data.correlationId,
    requestedBy: data.requestedBy,
    ...(data.source ? { source: data.source } : {}),
    ...(data.batchId ? { batchId: data.batchId } : {}),
  };
}

/** The job's callbacks as the event carries them (first, then the ones duplicates attached). */
function withCallback(
  data: Partial<RetireJobData> | undefined,
): Pick<OutcomeEvent, 'callbackUriPath' | 'callbackUriPaths'> {
  const [first, ...more] = callbackPaths(data);
  if (!first) return {};
  return more.length > 0 ? { callbackUriPath: first, callbackUriPaths: more } : { callbackUriPath: first };
}

/** A finished retire job (retired, no_devices, dry_run). */
export function retireOutcomeEvent(
  jobId: string | undefined,
  data: RetireJobData,
  record: Pick<RetireRecord, 'outcome' | 'finishedAt' | 'requestId' | 'devices'>,
): OutcomeEvent {
  const outcome: Outcome = record.outcome;
  return {
    type: `offboarding.${outcome}`,
    occurredAt: record.finishedAt,
    data: {
      ...common(String(jobId), data),
      outcome,
      ...(record.requestId ? { requestId: record.requestId } : {}),
      ...(record.devices !== undefined ? { devices: record.devices } : {}),
    },
    ...withCallback(data),
  };
}

/** A dead-lettered retire job. */
export function deadLetterOutcomeEvent(
  jobId: string | undefined,
  data: RetireJobData,
  info: { reason: DeadLetterReason; lastStatus: number | null; requestId?: string },
  at: string = new Date().toISOString(),
): OutcomeEvent {
  return {
    type: 'offboarding.dead_lettered',
    occurredAt: at,
    data: {
      // A malformed job (invalid_job) may lack fields: the event still goes out, with what there is.
      ...common(String(jobId), {
        ...data,
        user: String(data?.user ?? ''),
        correlationId: String(data?.correlationId ?? ''),
        requestedBy: String(data?.requestedBy ?? ''),
      }),
      outcome: 'dead_lettered',
      reason: info.reason,
      lastStatus: info.lastStatus,
      ...(info.requestId ? { requestId: info.requestId } : {}),
    },
    ...withCallback(data),
  };
}

/**
 * The end of a verification (src/evidence calls it with the final record). `retireJob` is the retire
 * job's data, for its callbacks: the evidence record does not carry them. A string is taken as the
 * job's one callback path (callers before several callbacks per job).
 */
export function verificationOutcomeEvent(
  evidence: EvidenceRecord,
  retireJob?: Partial<RetireJobData> | string,
): OutcomeEvent {
  const state = evidence.verification.state === 'verified' ? 'verified' : 'unverified';
  const count = (r: string) => evidence.verification.devices.filter((d) => d.result === r).length;
  return {
    type: `offboarding.${state}`,
    occurredAt: evidence.verification.endedAt ?? new Date().toISOString(),
    data: {
      jobId: evidence.jobId,
      user: evidence.user,
      outcome: state,
      correlationId: evidence.correlationId,
      requestedBy: evidence.requestedBy,
      source: evidence.source,
      ...(evidence.batchId ? { batchId: evidence.batchId } : {}),
      ...(evidence.action?.requestId ? { requestId: evidence.action.requestId } : {}),
      devices: evidence.devices.length,
      verification: {
        retired: count('retired'),
        notRetired: count('not_retired'),
        failed: count('failed'),
        checks: evidence.verification.checks,
      },
    },
    ...withCallback(typeof retireJob === 'string' ? { callbackUriPath: retireJob } : retireJob),
  };
}
