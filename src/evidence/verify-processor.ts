// The verify job processor: one check per run. Read the leaver's devices (verify-read.ts), apply
// the rules (verification.ts), write the result (compare-and-set, so a reverify racing a check is
// never overwritten), audit it, and either move the same job back to delayed until the next check
// or, when the verification has ended, audit verified/unverified and emit the outcome event.
// Everything that matters is in Redis between checks (the record and the delayed job), so a worker
// stopped in the middle of the window loses nothing: another one picks the job up when it is due.
import { DelayedError, type Job } from 'bullmq';
import { graphContext } from '../graph/call.js';
import type {
  EvidenceRecord,
  RetireJobData,
  TokenProvider,
  Verification,
  VerifyJobData,
} from '../interfaces.js';
import type { Logger } from '../log.js';
import { emitOutcome } from '../notify/emit.js';
import { verificationOutcomeEvent } from '../notify/events.js';
import type { Pacer } from '../pacing/pacer.js';
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { incrementMetrics } from '../records/metrics.js';
import { deadlineOf } from './schedule.js';
import { getEvidence, updateVerification } from './store.js';
import { type CheckOutcome, checkOnce } from './verify-check.js';

export interface VerifyDeps {
  ctx: QueueContext;
  readPacer: Pacer;
  tokenProvider: TokenProvider;
  logger: Logger;
  actor: string;
  /** Aborted on shutdown: the check in flight goes back to delayed and runs again elsewhere. */
  shutdown?: AbortSignal;
  /**
   * TENANTS_FILE: a tenant's own token provider and read pacer, so a leaver is verified in its tenant
   * on that tenant's read budget (undefined for a name this process does not serve).
   */
  tenantReads?: TenantReads;
}

export type TenantReads = (tenant: string) => { tokenProvider: TokenProvider; readPacer: Pacer } | undefined;

/** What a verify job run returns (kept on the completed job; the record holds the proof). */
export interface VerifyRunResult {
  jobId: string;
  /** `missing`: no evidence any more; `stale`: a reverify started another round. */
  state: Verification['state'] | 'missing' | 'stale';
  checks: number;
}

/** How soon a check cut short by a shutdown runs again (on another worker, or this one restarted). */
const SHUTDOWN_REQUEUE_MS = 1000;

export type VerifyProcessor = (
  job: Job<VerifyJobData, VerifyRunResult>,
  token?: string,
) => Promise<VerifyRunResult>;

/** Device policy only: the actions per result, for the audit (absent without a policy: entries as before). */
function actionCounts(actions: Verification['actions']): Record<string, unknown> {
  if (!actions) return {};
  const tally = (r: string) => actions.filter((a) => a.result === r).length;
  return {
    actions: {
      verified: tally('verified'),
      pending: tally('pending'),
      failed: tally('failed'),
      notVerified: tally('not_verified'),
    },
  };
}

function isJobData(d: unknown): d is VerifyJobData {
  const v = d as VerifyJobData | undefined;
  return typeof v?.jobId === 'string' && v.jobId.length > 0 && typeof v.user === 'string';
}

export function createVerifyProcessor(deps: VerifyDeps): VerifyProcessor {
  const { ctx, logger } = deps;
  const config = ctx.config;

  async function later(
    job: Job<VerifyJobData, VerifyRunResult>,
    token: string | undefined,
    at: number,
  ): Promise<never> {
    await job.moveToDelayed(Math.round(at), token);
    throw new DelayedError();
  }

  /** The end: audited once per round by whoever wrote the final state; the event is idempotent. */
  async function announce(record: EvidenceRecord): Promise<void> {
    const retire = await ctx.retire.getJob(record.jobId).catch(() => undefined);
    await emitOutcome(ctx, verificationOutcomeEvent(record, retire?.data as RetireJobData | undefined));
  }

  return async (job, token) => {
    if (!isJobData(job.data)) {
      logger.warn({ verifyJob: job.id }, 'verify job without a job id: dropped');
      return { jobId: '', state: 'missing', checks: 0 };
    }
    const { jobId, user } = job.data;
    const round = job.data.round ?? 0;
    const record = await getEvidence(ctx.redis, ctx.prefix, jobId);
    if (!record) return { jobId, state: 'missing', checks: 0 };
    const v = record.verification;
    if ((v.round ?? 0) !== round) return { jobId, state: 'stale', checks: v.checks };
    if (v.state === 'verified' || v.state === 'unverified') {
      // The final write happened but this run did not finish (crash, Redis blip before the event):
      // emit again; the notify job ids make it a no-op when it went out already.
      await announce(record);
      return { jobId, state: v.state, checks: v.checks };
    }
    if (v.state !== 'pending') return { jobId, state: v.state, checks: v.checks };

    const deadline = deadlineOf(record, config.evidence.verifyWindowMs);
    const own = record.tenant ? deps.tenantReads?.(record.tenant) : undefined;
    let checked: CheckOutcome;
    try {
      checked = await checkOnce(
        {
          redis: ctx.redis,
          prefix: ctx.prefix,
          graph: graphContext(
            config,
            own?.tokenProvider ?? deps.tokenProvider,
            own?.readPacer ?? deps.readPacer,
          ),
          ...(deps.shutdown ? { signal: deps.shutdown } : {}),
        },
        { record, deadline, verifyAfterMs: config.evidence.verifyAfterMs },
      );
    } catch (err) {
      if (deps.shutdown?.aborted) return later(job, token, Date.now() + SHUTDOWN_REQUEUE_MS);
      throw err;
    }
    if (checked.kind === 'later') {
      logger.info({ jobId, reason: checked.reason, delayMs: checked.delayMs }, 'verification read postponed');
      return later(job, token, checked.at);
    }
    const { decision, now } = checked;
    const ended = decision.state !== 'pending';
    let applied = false;
    let newlyRetired = 0;
    const written = await updateVerification(
      ctx.redis,
      ctx.prefix,
      jobId,
      (current) => {
        applied = false;
        const cv = current.verification;
        // A reverify (new round) or another run that already ended it: this result is stale.
        if ((cv.round ?? 0) !== round || cv.state !== 'pending') return null;
        const before = new Map(cv.devices.map((d) => [d.deviceId, d.result]));
        newlyRetired = decision.devices.filter(
          (d) => d.result === 'retired' && before.get(d.deviceId) !== 'retired',
        ).length;
        applied = true;
        return {
          ...cv,
          state: decision.state,
          checks: cv.checks + 1,
          lastCheckedAt: new Date(now).toISOString(),
          deadline: new Date(deadline).toISOString(),
          nextCheckAt:
            decision.nextCheckAt === undefined ? undefined : new Date(decision.nextCheckAt).toISOString(),
          endedAt: ended ? new Date(now).toISOString() : undefined,
          devices: decision.devices,
          unexpectedDevices: decision.unexpectedDevices.length > 0 ? decision.unexpectedDevices : undefined,
          ...(decision.actions ? { actions: decision.actions } : {}),
        };
      },
      config.evidence.retentionMs,
    );
    if (!written) return { jobId, state: 'missing', checks: 0 };
    if (!applied) return { jobId, state: 'stale', checks: written.verification.checks };

    const w = written.verification;
    const tally = (r: string) => w.devices.filter((d) => d.result === r).length;
    const counts = {
      retired: tally('retired'),
      pending: tally('pending'),
      failed: tally('failed'),
      notRetired: tally('not_retired'),
    };
    const at = new Date(now).toISOString();
    const base = { actor: deps.actor, at, jobId, user, correlationId: record.correlationId };
    await appendAudit(ctx, [
      {
        ...base,
        type: 'verification',
        details: {
          check: w.checks,
          round,
          state: w.state,
          ...counts,
          ...actionCounts(w.actions),
          ...checked.readDetails,
          ...(w.unexpectedDevices ? { unexpectedDevices: w.unexpectedDevices.length } : {}),
        },
      },
      ...(ended
        ? [
            {
              ...base,
              type: w.state === 'verified' ? ('verified' as const) : ('unverified' as const),
              details: { checks: w.checks, round, ...counts, ...actionCounts(w.actions) },
            },
          ]
        : []),
    ]);
    await incrementMetrics(ctx.redis, ctx.prefix, {
      verify_checks: 1,
      devices_retired: newlyRetired,
      ...(ended ? { [`verification:${w.state}`]: 1 } : {}),
    });
    if (ended) {
      logger.info({ jobId, state: w.state, checks: w.checks, ...counts }, 'verification ended');
      await announce(written);
      return { jobId, state: w.state, checks: w.checks };
    }
    return later(job, token, decision.nextCheckAt ?? deadline);
  };
}
