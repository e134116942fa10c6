// The jobs of one leaver, as `offboard status --user`, GET /v1/offboardings?user= and the console
// lookup find them: the pending jobs through BullMQ's per-user deduplication ids, and every job the
// user's history names (finished, dead-lettered, cancelled).
//
// A leaver is keyed by whatever the request named: the Entra sweep names object ids, HR usually
// names UPNs. So a UPN -> object id alias index is kept wherever both are known (the Entra sweep
// reads both): a lookup by UPN also finds the jobs keyed by the object ids that UPN had. One small
// sorted set per UPN (at most MAX_ALIASES ids, refreshed and expiring with HISTORY_TTL), so its
// Redis cost is bounded by the leavers seen within the history's lifetime.
import type { AuditRecord } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { userHistory } from './audit.js';

/** Object ids kept per UPN: a UPN moves to another account rarely, but it can. */
export const MAX_ALIASES = 5;
const ALIAS_CHUNK = 500;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A UPN as values/user.ts normalises it, roughly: records/ does not import intake/ (which imports records/). */
const UPN = /^[^\s@/%]{1,64}@[a-z0-9.-]{1,253}$/;

export interface UserJobs {
  /** The user's job ids, most recently mentioned first (the pending ones lead). */
  ids: string[];
  /** The user's history, oldest first (shared with each job's view), aliases' included. */
  history: AuditRecord[];
  /** The names the jobs may carry as `user`: the user itself, then the object ids of a UPN. */
  users: string[];
}

export interface UpnAlias {
  upn: string;
  objectId: string;
}

type AliasContext = Pick<QueueContext, 'redis' | 'prefix'> & {
  config: { retention: { historyTtlMs: number } };
};

/** Records that each `upn` names its `objectId` (as Entra reported them). Invalid pairs are skipped. */
export async function recordUpnAliases(ctx: AliasContext, pairs: readonly UpnAlias[]): Promise<number> {
  const now = Date.now();
  const ttl = ctx.config.retention.historyTtlMs;
  let written = 0;
  // Chunks of one MULTI each: every key shares the prefix's hash tag, so this works on Cluster too.
  for (let i = 0; i < pairs.length; i += ALIAS_CHUNK) {
    const tx = ctx.redis.multi();
    let n = 0;
    for (const p of pairs.slice(i, i + ALIAS_CHUNK)) {
      const upn = p.upn.trim().toLowerCase();
      const id = p.objectId.trim().toLowerCase();
      if (upn.length > 113 || !UPN.test(upn) || !GUID.test(id)) continue;
      const key = keys.upnAlias(ctx.prefix, upn);
      tx.zadd(key, now, id)
        .zremrangebyrank(key, 0, -(MAX_ALIASES + 1))
        .pexpire(key, ttl);
      n++;
    }
    // An empty MULTI was never sent (ioredis queues it until exec).
    if (n > 0) await tx.exec();
    written += n;
  }
  return written;
}

/** The user itself and, for a UPN, the object ids it was seen with (most recent first). */
export async function userNames(
  ctx: Pick<QueueContext, 'redis' | 'prefix'>,
  user: string,
): Promise<string[]> {
  if (GUID.test(user)) return [user];
  const ids = await ctx.redis.zrevrange(keys.upnAlias(ctx.prefix, user), 0, MAX_ALIASES - 1);
  return [user, ...ids.filter((id) => GUID.test(id) && id !== user)];
}

/** The histories of several names merged, oldest first (ids renumbered when there is more than one). */
export async function mergedHistory(ctx: QueueContext, users: readonly string[]): Promise<AuditRecord[]> {
  const all = await Promise.all(users.map((u) => userHistory(ctx, u)));
  if (all.length === 1) return all[0] ?? [];
  return all
    .flat()
    .sort((a, b) => a.at.localeCompare(b.at))
    .map((r, i) => ({ ...r, id: `h-${i}` }));
}

/** `user` must already be normalised (values/user.ts). */
export async function findUserJobs(ctx: QueueContext, user: string): Promise<UserJobs> {
  const users = await userNames(ctx, user);
  const [pending, history] = await Promise.all([
    Promise.all(users.map((u) => ctx.retire.getDeduplicationJobId(u))),
    mergedHistory(ctx, users),
  ]);
  const ids: string[] = pending.filter((id): id is string => typeof id === 'string' && id !== '');
  for (const entry of [...history].reverse()) {
    const dl = (entry.details as { deadLetterId?: unknown } | undefined)?.deadLetterId;
    const id = entry.jobId ?? (typeof dl === 'string' && dl.startsWith('dl-') ? dl.slice(3) : undefined);
    if (id && !ids.includes(id)) ids.push(id);
  }
  return { ids, history, users };
}
