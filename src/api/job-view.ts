// What GET /v1/offboardings/{id} shows: the job's state, attempts, record and audit history. A job
// that ended in the dead-letter queue reads as `dead-lettered`, with the dead letter attached.
import { getEvidence } from '../evidence/store.js';
import { type EvidenceView, evidenceView } from '../evidence/view.js';
import type {
  AuditRecord,
  DeadLetterData,
  RetireJobData,
  RetireProgress,
  RetireRecord,
} from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { deadLetterId } from '../queue/names.js';
import { userHistory } from '../records/audit.js';
import { ApiError } from './errors.js';

export interface JobView {
  id: string;
  state: string;
  user: string;
  data: RetireJobData;
  attempts: { made: number; max: number | null; graphCalls: number; throttledWaits: number };
  progress: RetireProgress | null;
  record: RetireRecord | null;
  failedReason: string | null;
  timestamps: {
    createdAt: string | null;
    runAt: string | null;
    processedAt: string | null;
    finishedAt: string | null;
  };
  deadLetter: (DeadLetterData & { id: string }) | null;
  history: AuditRecord[];
  /** Devices before, the action, each device after and the verification; null without evidence. */
  evidence: EvidenceView | null;
}

const iso = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString() : null);

function progressOf(value: unknown): RetireProgress | null {
  return typeof value === 'object' && value !== null && 'graphCalls' in value
    ? (value as RetireProgress)
    : null;
}

/** `opts.history`: the user's history when the caller read it already (listing a user's jobs). */
export async function jobView(
  ctx: QueueContext,
  id: string,
  opts: { history?: AuditRecord[] } = {},
): Promise<JobView> {
  const dlId = deadLetterId(id);
  const [job, dl, evidence] = await Promise.all([
    ctx.retire.getJob(id),
    ctx.deadLetter.getJob(dlId),
    getEvidence(ctx.redis, ctx.prefix, id),
  ]);
  const deadLetter = dl?.data?.original ? { id: dlId, ...dl.data } : null;
  const data = job?.data?.user ? job.data : deadLetter?.original;
  if (!data) throw new ApiError(404, 'not_found', `no offboarding job with id ${id}`);
  let state = job?.data?.user ? await job.getState() : 'dead-lettered';
  if (deadLetter && (state === 'failed' || state === 'unknown')) state = 'dead-lettered';
  const progress = progressOf(job?.progress);
  const history = (opts.history ?? (await userHistory(ctx, data.user))).filter(
    (e) => e.jobId === id || (e.details as { deadLetterId?: unknown } | undefined)?.deadLetterId === dlId,
  );
  const created = job?.timestamp ?? (data.requestedAt ? Date.parse(data.requestedAt) : null);
  return {
    id,
    state,
    user: data.user,
    data,
    attempts: {
      made: job?.attemptsMade ?? deadLetter?.attempts ?? 0,
      max: job?.opts?.attempts ?? null,
      graphCalls: progress?.graphCalls ?? deadLetter?.attempts ?? 0,
      throttledWaits: progress?.throttledWaits ?? deadLetter?.throttledWaits ?? 0,
    },
    progress,
    record: (job?.returnvalue as RetireRecord | null | undefined) ?? null,
    failedReason: job?.failedReason || null,
    timestamps: {
      createdAt: iso(created),
      runAt: job ? iso(job.timestamp + (job.opts?.delay ?? 0)) : null,
      processedAt: iso(job?.processedOn),
      finishedAt: iso(job?.finishedOn ?? (deadLetter ? Date.parse(deadLetter.deadLetteredAt) : null)),
    },
    deadLetter,
    history,
    evidence: evidence ? evidenceView(evidence) : null,
  };
}
