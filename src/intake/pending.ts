// A user's pending jobs: found through BullMQ's deduplication keys, one per user and kind (and per
// tenant: the same UPN in two tenants is two leavers).
import type { QueueContext } from '../queue/context.js';

/**
 * The deduplication id of a user's pending job. Real requests and dry runs have their own: a real
 * request is never absorbed by a pending dry run (nor a dry run by a real job). With a tenant the
 * id is `<tenant>/<user>` (`/` is in neither a tenant slug nor a user); without one it is as before.
 */
export function pendingKey(user: string, dryRun: boolean, tenant?: string): string {
  const who = tenant ? `${tenant}/${user}` : user;
  return dryRun ? `dry:${who}` : who;
}

/** The user's pending jobs (real and dry run) in one tenant (absent: no tenants file). */
export async function pendingJobIds(
  ctx: Pick<QueueContext, 'retire'>,
  user: string,
  tenant?: string,
): Promise<{ real: string | null; dryRun: string | null }> {
  const [real, dryRun] = await Promise.all([
    ctx.retire.getDeduplicationJobId(pendingKey(user, false, tenant)),
    ctx.retire.getDeduplicationJobId(pendingKey(user, true, tenant)),
  ]);
  return { real: real || null, dryRun: dryRun || null };
}
