// The guard's rolling window: GUARD_THRESHOLD applies per submission and also to the distinct users
// accepted without approval within GUARD_WINDOW, per actor (API key name, CLI --as, schedule) and in
// total. Without it a compromised HR key could stay under the threshold forever by splitting a
// layoff into small batches. Users released by an approval never pass through here, so they do not
// count. The check and the reservation are one Lua script: two submissions racing cannot both fit.
import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { normaliseActor } from './actor.js';

type Ctx = Pick<QueueContext, 'redis' | 'prefix' | 'config'>;

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
  const res = (await runScript(
    ctx.redis,
    'guard/admit',
    [keys.guardWindow(ctx.prefix, normaliseActor(actor)), keys.guardWindowTotal(ctx.prefix)],
    [now, now - windowMs, threshold, opts.reserve === false ? '0' : '1', ...users],
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
