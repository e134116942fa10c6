// The jobs of one leaver, as `offboard status --user` finds them: the pending job through BullMQ's
// per-user deduplication id, and every job the user's history names (finished, dead-lettered,
// cancelled). Used by GET /v1/offboardings?user=.
import type { AuditRecord } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { userHistory } from './audit.js';

export interface UserJobs {
  /** The user's job ids, most recently mentioned first (the pending one leads). */
  ids: string[];
  /** The user's history, oldest first (shared with each job's view). */
  history: AuditRecord[];
}

/** `user` must already be normalised (intake/user.ts). */
export async function findUserJobs(ctx: QueueContext, user: string): Promise<UserJobs> {
  const [pending, history] = await Promise.all([
    ctx.retire.getDeduplicationJobId(user),
    userHistory(ctx, user),
  ]);
  const ids: string[] = pending ? [pending] : [];
  for (const entry of [...history].reverse()) {
    const dl = (entry.details as { deadLetterId?: unknown } | undefined)?.deadLetterId;
    const id = entry.jobId ?? (typeof dl === 'string' && dl.startsWith('dl-') ? dl.slice(3) : undefined);
    if (id && !ids.includes(id)) ids.push(id);
  }
  return { ids, history };
}
