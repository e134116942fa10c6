// Devices × actions for a plan (console Check, `offboard import --plan`, `enqueue --dry-run`): per
// leaver, the managed devices read from Graph (GETs only, the inventory's own query, through the
// read pacer so a plan spends the read budget like the worker's inventory) and the policy applied to
// them (planDevices). Nothing is written. A plan reads at most MAX_PLAN_LEAVERS leavers and says how
// many it left out, so a 100,000-row file never turns into 100,000 reads.
import { createTokenProvider } from '../entra/provider.js';
import { graphContext, graphReadAll } from '../graph/call.js';
import { managedDevicesPath, toDevices } from '../graph/devices.js';
import { GraphError } from '../graph/errors.js';
import type { DevicePlan, TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import { createReadPacer } from '../pacing/read-pacer.js';
import type { QueueContext } from '../queue/context.js';
import { planDevices } from './plan.js';

/** Leavers whose devices one plan reads at most. */
export const MAX_PLAN_LEAVERS = 200;

export interface LeaverDevicePlan {
  user: string;
  profile: string;
  /** Each device with its rule and actions; absent when the read failed (`error`). */
  devices?: DevicePlan[];
  error?: string;
}

/** What a plan asks for: the leavers that would get a job, with their resolved profiles. */
export type DevicePlanSource = (
  leavers: readonly { user: string; profile: string }[],
) => Promise<LeaverDevicePlan[]>;

function why(err: unknown): string {
  if (err instanceof GraphError) {
    if (err.status === 404) return 'no such user in the directory (404)';
    return `the device read failed: HTTP ${err.status ?? '-'}${err.code ? ` ${err.code}` : ''}${err.requestId ? ` (request-id ${err.requestId})` : ''}`;
  }
  return `the device read failed: ${(err as Error)?.message ?? String(err)}`.slice(0, 300);
}

/**
 * Reads with this process's Graph credentials (a fresh token provider, closed by `close`). Reads run
 * one after another: the read pacer spaces them anyway, and a plan must not starve the workers.
 */
export function graphDevicePlans(
  ctx: QueueContext,
  opts: { logger?: Logger; tokenProvider?: TokenProvider } = {},
): { read: DevicePlanSource; close: () => Promise<void> } {
  const policy = ctx.config.devicePolicy;
  let provider: TokenProvider | undefined = opts.tokenProvider;
  const own = !opts.tokenProvider;
  const pacer = createReadPacer({ redis: ctx.redis, prefix: ctx.prefix, config: ctx.config });
  const read: DevicePlanSource = async (leavers) => {
    if (!policy) return [];
    provider ??= createTokenProvider(ctx.config, {
      redis: ctx.redis,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    const gctx = graphContext(ctx.config, provider, pacer);
    const out: LeaverDevicePlan[] = [];
    for (const { user, profile } of leavers.slice(0, MAX_PLAN_LEAVERS)) {
      try {
        const list = await graphReadAll(gctx, { path: managedDevicesPath(user), subject: user });
        out.push({ user, profile, devices: planDevices(policy, profile, toDevices(list.value)) });
      } catch (err) {
        out.push({ user, profile, error: why(err) });
      }
    }
    return out;
  };
  return {
    read,
    close: async () => {
      if (own) await provider?.close?.().catch(() => {});
    },
  };
}
