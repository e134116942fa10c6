// The guard as one submission's tenant sees it. With TENANTS_FILE, a tenant's `guard` overrides
// GUARD_THRESHOLD and GUARD_TWO_PERSON for its own submissions, and each tenant counts its own rolling
// window and its own users due around a moment: an MSP's layoff in one tenant never holds another
// tenant's five leavers, and one tenant's threshold is not spent by the others. Without a tenant (no
// tenants file) the deployment's settings and keys, exactly as before.
import type { Config } from '../config/load.js';
import { keys, ownKey, tenantKey } from '../queue/names.js';

export interface GuardScope {
  threshold: number;
  twoPerson: boolean;
  /** Distinct users an actor had accepted without approval within the window. */
  actorWindow(actor: string): string;
  /** Every actor's, together. */
  totalWindow: string;
  /** User → when it will be retired, for users accepted without approval (window.ts). */
  due: string;
  /** User → when its retire started, for the worker's re-check of due jobs (due.ts). */
  retiring: string;
}

/** `tenant` undefined, or not in the file (refused by the front door before): the deployment's. */
export function guardScope(
  ctx: { prefix: string; config: Pick<Config, 'guard' | 'tenants'> },
  tenant?: string,
): GuardScope {
  const t = tenant === undefined ? undefined : ctx.config.tenants?.find((x) => x.name === tenant);
  const { threshold, twoPerson } = ctx.config.guard;
  if (!t) {
    return {
      threshold,
      twoPerson,
      actorWindow: (actor) => keys.guardWindow(ctx.prefix, actor),
      totalWindow: keys.guardWindowTotal(ctx.prefix),
      due: ownKey(ctx.prefix, 'guard-window', 'due'),
      retiring: ownKey(ctx.prefix, 'guard-window', 'retiring'),
    };
  }
  const k = (...parts: string[]) => tenantKey(ctx.prefix, t.name, ...parts);
  return {
    threshold: t.guard?.threshold ?? threshold,
    twoPerson: t.guard?.twoPerson ?? twoPerson,
    actorWindow: (actor) => k('guard-window', 'actor', actor),
    totalWindow: k('guard-window', 'total'),
    due: k('guard-window', 'due'),
    retiring: k('guard-window', 'retiring'),
  };
}
