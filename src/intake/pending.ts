// A user's pending jobs: found through BullMQ's deduplication keys, one per user and kind.
import type { QueueContext } from '../queue/context.js';

/**
 * The deduplication id of a user's pending job. Real requests and dry runs have their own: a real
 * request is never absorbed by a pending dry run (nor a dry run by a real job).
 */
export function pendingKey(user: string, dryRun: boolean): string {
  return dryRun ? `dry:${user}` : user;
}

/** The user's pending jobs (real and dry run), found through their deduplication keys. */
export async function pendingJobIds(
  ctx: Pick<QueueContext, 'retire'>,
  user: string,
): Promise<{ real: string | null; dryRun: string | null }> {
  const [real, dryRun] = await Promise.all([
    ctx.retire.getDeduplicationJobId(pendingKey(user, false)),
    ctx.retire.getDeduplicationJobId(pendingKey(user, true)),
  ]);
  return { real: real || null, dryRun: dryRun || null };
}
