// A duplicate request that carries a Lifecycle Workflows callback attaches it to the pending job it
// folded into, so every workflow waiting on the leaver hears the real outcome (HR enqueued first and
// the workflow asks on the leave date; two workflows, or a rerun, wait on the same leaver). Callbacks
// are kept in the job's data (RetireJobData.callbackUriPath, then callbackUriPaths), at most
// MAX_CALLBACKS_PER_JOB, each resumed once (src/notify/emit.ts).
import { createHash } from 'node:crypto';
import type { RetireJobData } from '../interfaces.js';
import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { callbackPaths, MAX_CALLBACKS_PER_JOB } from '../values/callback-path.js';

/**
 * Why a callback was or was not attached, as the duplicate answer says it (`callbackReason`):
 * `attached`; `already_attached` (the job already carries this path); `job_running` (a worker holds
 * the job and reads no new data: send the callback again if it must be heard, or wait for the job's
 * outcome); `job_finished` / `job_gone` (no pending job any more); `limit_reached`
 * (MAX_CALLBACKS_PER_JOB callbacks already wait on this job).
 */
export type CallbackReason =
  | 'attached'
  | 'already_attached'
  | 'job_running'
  | 'job_finished'
  | 'job_gone'
  | 'limit_reached';

export interface CallbackAttachment {
  callbackAttached: boolean;
  callbackReason: CallbackReason;
}

const REFUSED: Record<string, CallbackReason> = {
  '-1': 'job_gone',
  '-2': 'job_finished',
  '-3': 'job_running',
};

/** Attempts when another writer changed the job's data between read and write. */
const MAX_ROUNDS = 5;

export async function attachCallback(
  ctx: QueueContext,
  jobId: string,
  callbackUriPath: string,
): Promise<CallbackAttachment> {
  const jobKey = ctx.retire.toKey(jobId);
  const activeKey = ctx.retire.toKey('active');
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const raw = await ctx.redis.hget(jobKey, 'data');
    if (raw === null) return { callbackAttached: false, callbackReason: 'job_gone' };
    const data = JSON.parse(raw) as RetireJobData;
    const paths = callbackPaths(data);
    if (paths.includes(callbackUriPath))
      return { callbackAttached: true, callbackReason: 'already_attached' };
    if (paths.length >= MAX_CALLBACKS_PER_JOB)
      return { callbackAttached: false, callbackReason: 'limit_reached' };
    const [first, ...more] = [...paths, callbackUriPath];
    const next: RetireJobData = { ...data, callbackUriPath: first };
    if (more.length > 0) next.callbackUriPaths = more;
    else delete next.callbackUriPaths;
    const sha1 = createHash('sha1').update(raw).digest('hex');
    const reply = Number(
      await runScript(
        ctx.redis,
        'intake/attach-callback',
        [jobKey, activeKey],
        [sha1, JSON.stringify(next), jobId],
      ),
    );
    if (reply === 1) return { callbackAttached: true, callbackReason: 'attached' };
    const refused = REFUSED[String(reply)];
    if (refused) return { callbackAttached: false, callbackReason: refused };
  }
  // Still changing after MAX_ROUNDS reads: say so rather than claim an attachment that did not happen.
  return { callbackAttached: false, callbackReason: 'job_running' };
}
