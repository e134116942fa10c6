// The guard's rolling window: GUARD_THRESHOLD applies per submission and also to the distinct users
// accepted without approval within GUARD_WINDOW, per actor (API key name, CLI --as, schedule) and in
// total. Without it a compromised HR key could stay under the threshold forever by splitting a
// layoff into small batches. Users released by an approval never pass through here, so they do not
// count. The check and the reservation are one Lua script: two submissions racing cannot both fit.
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { normaliseActor } from './actor.js';

type Ctx = Pick<QueueContext, 'redis' | 'prefix' | 'config'>;

// KEYS: actor set, total set. ARGV: now, window start, threshold, reserve (1/0), users…
// Returns {admitted, actorCount, totalCount} where the counts include the submitted users.
const ADMIT = `
local now, since, limit, reserve = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. since)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. since)
local newActor, newTotal = 0, 0
for i = 5, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then newActor = newActor + 1 end
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then newTotal = newTotal + 1 end
end
local a = redis.call('ZCARD', KEYS[1]) + newActor
local t = redis.call('ZCARD', KEYS[2]) + newTotal
if a > limit or t > limit then return {0, a, t} end
if reserve == '1' then
  for i = 5, #ARGV do
    redis.call('ZADD', KEYS[1], now, ARGV[i])
    redis.call('ZADD', KEYS[2], now, ARGV[i])
  end
  local ttl = math.ceil(now - since) + 1000
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1, a, t}
`;

export type HoldCause = 'threshold' | 'window';

export interface Admission {
  admitted: boolean;
  /** Why the submission must wait for approval. */
  cause?: HoldCause;
  /** Distinct users accepted without approval within the window, counting this submission. */
  actorCount: number;
  totalCount: number;
}

/** A submission of more distinct users than GUARD_THRESHOLD is held whatever the window says. */
export function overThreshold(ctx: Ctx, count: number): Admission | null {
  if (count <= ctx.config.guard.threshold) return null;
  return { admitted: false, cause: 'threshold', actorCount: count, totalCount: count };
}

/**
 * Decides whether `users` (valid, distinct) may be enqueued without approval, and when they may and
 * `reserve` is set (the default), records them in the window at once. A plan (`reserve: false`)
 * only asks. A threshold of 0 holds every submission.
 */
export async function admitWithoutApproval(
  ctx: Ctx,
  actor: string,
  users: readonly string[],
  opts: { reserve?: boolean; now?: number } = {},
): Promise<Admission> {
  const { threshold, windowMs } = ctx.config.guard;
  const over = overThreshold(ctx, users.length);
  if (over) return over;
  if (users.length === 0) return { admitted: true, actorCount: 0, totalCount: 0 };
  const now = opts.now ?? Date.now();
  const res = (await ctx.redis.eval(
    ADMIT,
    2,
    keys.guardWindow(ctx.prefix, normaliseActor(actor)),
    keys.guardWindowTotal(ctx.prefix),
    String(now),
    String(now - windowMs),
    String(threshold),
    opts.reserve === false ? '0' : '1',
    ...users,
  )) as [number, number, number];
  const admitted = res[0] === 1;
  return {
    admitted,
    ...(admitted ? {} : { cause: 'window' as const }),
    actorCount: res[1],
    totalCount: res[2],
  };
}

/** One line for people: why a submission waits for approval. */
export function holdCauseText(ctx: Pick<Ctx, 'config'>, cause: HoldCause = 'threshold'): string {
  const { threshold, windowMs } = ctx.config.guard;
  return cause === 'window'
    ? `more than GUARD_THRESHOLD=${threshold} distinct users accepted without approval within GUARD_WINDOW=${Math.round(windowMs / 60_000)}m`
    : `more than GUARD_THRESHOLD=${threshold} users`;
}
