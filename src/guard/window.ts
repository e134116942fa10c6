// The guard's rolling window: GUARD_THRESHOLD applies per submission and also to the distinct users
// accepted without approval within GUARD_WINDOW, per actor (API key name, CLI --as, schedule) and in
// total. Without it a compromised HR key could stay under the threshold forever by splitting a
// layoff into small batches. It also counts users by when they will be retired: three rounds of
// three requests a window apart, all for the same moment, would otherwise retire nine at once. Users
// released by an approval never pass through here, so they do not count; dry runs are counted in a
// window of their own (they retire nothing). The check and the reservation are one Lua script: two
// submissions racing cannot both fit. The worker checks again when a job becomes due (./due.ts).
import type { ValidRequest } from '../intake/validate.js';
import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { normaliseActor } from './actor.js';
import { guardScope } from './scope.js';

type Ctx = Pick<QueueContext, 'redis' | 'prefix' | 'config'>;

/**
 * `due`: too many users would be retired within GUARD_WINDOW of this one's moment. `wipe`: too many
 * devices would be wiped or deleted within GUARD_WINDOW (GUARD_WIPE_THRESHOLD, src/guard/wipe-hold.ts).
 */
export type HoldCause = 'threshold' | 'window' | 'due' | 'wipe';

/** A user as the window counts it: when it will be retired, and whether it is a dry run. */
export interface Candidate {
  user: string;
  /** Epoch ms of its moment (effectiveAt, or now when absent or past). */
  dueMs: number;
  dryRun: boolean;
}

/** A validated request as the window counts it (DRY_RUN makes every request a dry run). */
export function candidateOf(ctx: Pick<Ctx, 'config'>, r: ValidRequest, now = Date.now()): Candidate {
  const at = r.effectiveAt ? Date.parse(r.effectiveAt) : now;
  return {
    user: r.user,
    dueMs: Number.isFinite(at) ? Math.max(now, at) : now,
    dryRun: ctx.config.worker.dryRun || r.dryRun === true,
  };
}

export interface Admission {
  admitted: boolean;
  /** Why the submission must wait for approval. */
  cause?: HoldCause;
  /** Distinct users accepted without approval within the window, counting this submission. */
  actorCount: number;
  totalCount: number;
}

/**
 * A submission of more distinct users than GUARD_THRESHOLD (its tenant's, with TENANTS_FILE) is held
 * whatever the window says.
 */
export function overThreshold(ctx: Ctx, count: number, tenant?: string): Admission | null {
  if (count <= guardScope(ctx, tenant).threshold) return null;
  return { admitted: false, cause: 'threshold', actorCount: count, totalCount: count };
}

/**
 * A staging's distinct users left in Redis (a set key), each a real request due now: a 100,000-row
 * import within GUARD_THRESHOLD is reserved without its users passing through the process.
 */
export interface StagedUsers {
  setKey: string;
  count: number;
}

/**
 * Decides whether `users` (valid, distinct; a plain string is a real request due now) may be
 * enqueued without approval, and when they may and `reserve` is set (the default), records them in
 * the window at once. A plan (`reserve: false`) only asks. A threshold of 0 holds every submission.
 */
export async function admitWithoutApproval(
  ctx: Ctx,
  actor: string,
  users: readonly (string | Candidate)[] | StagedUsers,
  opts: { reserve?: boolean; now?: number; tenant?: string } = {},
): Promise<Admission> {
  const { windowMs } = ctx.config.guard;
  const scope = guardScope(ctx, opts.tenant);
  const threshold = scope.threshold;
  const staged = 'setKey' in users ? users : null;
  const count = staged ? staged.count : (users as readonly unknown[]).length;
  const over = overThreshold(ctx, count, opts.tenant);
  if (over) return over;
  if (count === 0) return { admitted: true, actorCount: 0, totalCount: 0 };
  const now = opts.now ?? Date.now();
  const real: string[] = [];
  const dry: string[] = [];
  if (!staged) {
    for (const u of users as readonly (string | Candidate)[]) {
      if (typeof u === 'string') real.push(u, String(now));
      else if (u.dryRun) dry.push(u.user);
      else real.push(u.user, String(Math.max(now, u.dueMs)));
    }
  }
  const a = normaliseActor(actor);
  const res = (await runScript(
    ctx.redis,
    'guard/admit',
    [
      scope.actorWindow(a),
      scope.totalWindow,
      `${scope.actorWindow(a)}:dry`,
      `${scope.totalWindow}:dry`,
      scope.due,
      // A large staging's users stay in Redis: the script reads the set (n real = -1); otherwise
      // the key is not read (the due set stands in, in the same slot).
      staged ? staged.setKey : scope.due,
    ],
    [
      now,
      windowMs,
      threshold,
      opts.reserve === false ? '0' : '1',
      staged ? -1 : real.length / 2,
      ...real,
      ...dry,
    ],
  )) as [number, number, number, string];
  const admitted = res[0] === 1;
  return {
    admitted,
    ...(admitted ? {} : { cause: res[3] === 'due' ? ('due' as const) : ('window' as const) }),
    actorCount: res[1],
    totalCount: res[2],
  };
}

/** One line for people: why a submission waits for approval. */
export function holdCauseText(ctx: Pick<Ctx, 'config'>, cause: HoldCause = 'threshold'): string {
  const { threshold, windowMs } = ctx.config.guard;
  const win = windowMs >= 60_000 ? `${Math.round(windowMs / 60_000)}m` : `${Math.round(windowMs / 1000)}s`;
  if (cause === 'wipe')
    return `more than GUARD_WIPE_THRESHOLD=${ctx.config.guard.wipeThreshold ?? 10} devices would be wiped or deleted without approval within GUARD_WINDOW=${win}`;
  if (cause === 'due')
    return `more than GUARD_THRESHOLD=${threshold} users would be retired without approval within GUARD_WINDOW=${win} of this moment`;
  return cause === 'window'
    ? `more than GUARD_THRESHOLD=${threshold} distinct users accepted without approval within GUARD_WINDOW=${win}`
    : `more than GUARD_THRESHOLD=${threshold} users`;
}
