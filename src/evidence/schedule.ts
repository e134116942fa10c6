// Putting verification on the `verify` queue: the first check after a retire (scheduleVerification,
// called by the retire processor before its job completes) and an operator's re-verify
// (requestReverify). Job ids are deterministic (`verify-<jobId>`, `verify-<jobId>-r<round>`), so a
// retire job retried after a crash adds nothing twice. The verify job itself then moves back to
// delayed between checks (verify-processor.ts): one job per round carries the whole window.
import { type JobsOptions, Queue } from 'bullmq';
import type { Config } from '../config/load.js';
import type { EvidenceRecord, Verification, VerifyJobData } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { VERIFY_QUEUE } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import { getEvidence, updateVerification } from './store.js';

/** Attempts for unexpected errors (Redis blips, a bug): reads that fail are not errors, they are checks. */
export const VERIFY_ATTEMPTS = 10;

export function verifyJobId(jobId: string, round = 0): string {
  return round > 0 ? `verify-${jobId}-r${round}` : `verify-${jobId}`;
}

export function verifyJobOptions(jobId: string, round: number, delayMs: number): JobsOptions {
  return {
    jobId: verifyJobId(jobId, round),
    delay: Math.max(0, Math.round(delayMs)),
    attempts: VERIFY_ATTEMPTS,
    backoff: { type: 'exponential', delay: 5000 },
    // Records and audit hold the proof; the job is only the timer.
    removeOnComplete: { age: 7 * 86_400, count: 100_000 },
    removeOnFail: { age: 30 * 86_400 },
  };
}

const queues = new WeakMap<QueueContext, Queue<VerifyJobData>>();

/** The verify queue of a context, made once, on the context's queue connection (closed with it). */
export function verifyQueue(ctx: QueueContext): Queue<VerifyJobData> {
  let q = queues.get(ctx);
  if (!q) {
    q = new Queue<VerifyJobData>(VERIFY_QUEUE, { connection: ctx.queueConnection, prefix: ctx.prefix });
    q.on('error', () => {});
    queues.set(ctx, q);
  }
  return q;
}

/** Reads stop at: the deadline in the record, else the action (or inventory) time + VERIFY_WINDOW. */
export function deadlineOf(record: EvidenceRecord, windowMs: number): number {
  const set = record.verification.deadline ? Date.parse(record.verification.deadline) : Number.NaN;
  if (Number.isFinite(set)) return set;
  const from = Date.parse(record.action?.at ?? record.inventoriedAt);
  return (Number.isFinite(from) ? from : Date.now()) + windowMs;
}

/**
 * Adds the delayed first check of a retired job's devices (VERIFY_AFTER after now, or at the record's
 * nextCheckAt). Does nothing when evidence is off, when the record needs no verification, or when the
 * stored record's verification already ended (a late retry of the retire job).
 */
export async function scheduleVerification(
  ctx: QueueContext,
  record: EvidenceRecord,
  config: Config,
): Promise<void> {
  if (!config.evidence.enabled || record.verification.state !== 'pending') return;
  const stored = await getEvidence(ctx.redis, ctx.prefix, record.jobId);
  if (stored && stored.verification.state !== 'pending') return;
  const round = record.verification.round ?? 0;
  const at = record.verification.nextCheckAt ? Date.parse(record.verification.nextCheckAt) : Number.NaN;
  const delay = Number.isFinite(at) ? at - Date.now() : config.evidence.verifyAfterMs;
  await verifyQueue(ctx).add(
    'verify',
    { jobId: record.jobId, user: record.user, round },
    verifyJobOptions(record.jobId, round, delay),
  );
}

/** No evidence for this job (unknown id, evidence off when it ran, or expired). */
export class EvidenceNotFoundError extends Error {
  override readonly name = 'EvidenceNotFoundError';
}

/** The job has evidence but nothing to verify: no retire was sent, or no device was inventoried. */
export class NothingToVerifyError extends Error {
  override readonly name = 'NothingToVerifyError';
}

export interface ReverifyResult {
  jobId: string;
  user: string;
  round: number;
  verifyJobId: string;
  /** ISO instant the new reads stop at (now + VERIFY_WINDOW). */
  deadline: string;
  /** The state before the reverify (pending: a running verification was restarted). */
  previousState: string;
}

/**
 * An operator re-runs the verification: state back to pending with a new deadline (now +
 * VERIFY_WINDOW) and a new round, a first read after VERIFY_AFTER, audited `reverify` with the
 * actor. Checks of the older round stop by themselves (their job sees another round and ends).
 */
export async function requestReverify(
  ctx: QueueContext,
  jobId: string,
  actor: string,
  config: Config,
): Promise<ReverifyResult> {
  const now = Date.now();
  const deadline = new Date(now + config.evidence.verifyWindowMs).toISOString();
  let previousState = 'pending';
  let problem: Error | undefined;
  const updated = await updateVerification(
    ctx.redis,
    ctx.prefix,
    jobId,
    (current): Verification | null => {
      problem = undefined;
      const acted = current.action !== undefined || (current.deviceActions?.length ?? 0) > 0;
      if (!acted || current.devices.length === 0) {
        problem = new NothingToVerifyError(
          !acted ? 'no retire was sent for this job: nothing to verify' : 'no device was inventoried',
        );
        return null;
      }
      previousState = current.verification.state;
      return {
        ...current.verification,
        state: 'pending',
        round: (current.verification.round ?? 0) + 1,
        deadline,
        nextCheckAt: new Date(now + config.evidence.verifyAfterMs).toISOString(),
        endedAt: undefined,
        // Device policy: every action is read again (one never sent stays failed: nothing to read).
        ...(current.verification.actions
          ? { actions: current.verification.actions.map((a) => ({ ...a, result: 'pending' as const })) }
          : {}),
      };
    },
    config.evidence.retentionMs,
  );
  if (!updated) throw new EvidenceNotFoundError(`no evidence for job ${jobId}`);
  if (problem) throw problem;
  const round = updated.verification.round ?? 1;
  await verifyQueue(ctx).add(
    'verify',
    { jobId, user: updated.user, round },
    verifyJobOptions(jobId, round, config.evidence.verifyAfterMs),
  );
  await appendAudit(ctx, {
    type: 'reverify',
    actor,
    at: new Date(now).toISOString(),
    jobId,
    user: updated.user,
    correlationId: updated.correlationId,
    details: { round, previousState, deadline },
  });
  return {
    jobId,
    user: updated.user,
    round,
    verifyJobId: verifyJobId(jobId, round),
    deadline,
    previousState,
  };
}
