// Systemic-failure detection. A broken credential, a revoked consent or a permission missing for the
// whole app is not the user's fault: instead of dead-lettering thousands of jobs, the circuit opens,
// the retire queue pauses for every worker, and the job that noticed goes back to the queue intact.
import type { Logger } from '../log.js';
import type { QueueContext } from '../queue/context.js';
import { getCircuit, openCircuit } from '../queue/control.js';
import { keys } from '../queue/names.js';
import { incrementMetrics } from '../records/metrics.js';
import { runScript } from './lua/scripts.js';

/** Thrown inside the processor when a job must go back to the queue because the cause is systemic. */
export class SystemicFailureError extends Error {
  override readonly name = 'SystemicFailureError';
  constructor(
    readonly code: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`systemic failure (${code}): ${reason}`, options);
  }
}

export interface CircuitOptions {
  ctx: QueueContext;
  logger: Logger;
  /** 403s from this many distinct users inside the window are systemic (CIRCUIT_FORBIDDEN_THRESHOLD). */
  forbiddenThreshold: number;
  forbiddenWindowMs: number;
  actor?: string;
}

export interface Circuit {
  /** Opens the circuit and pauses the queue; one error log and one metric per incident (fleet-wide). */
  trip(cause: { code: string; reason: string }): Promise<void>;
  /** Counts a 403 for this user; true when 403s are systemic (threshold reached or circuit already open). */
  recordForbidden(user: string): Promise<boolean>;
  /** A success proves the permission works: forget the 403s seen so far. */
  onSuccess(): Promise<void>;
  isOpen(): Promise<boolean>;
}

export function createCircuit(opts: CircuitOptions): Circuit {
  const { ctx, logger } = opts;
  const forbiddenKey = keys.forbidden(ctx.prefix);
  const circuitKey = keys.circuit(ctx.prefix);
  // A reset per success would cost a write per call: at most one per second per process, and the
  // first success after this process saw a 403 resets at once.
  let lastReset = 0;

  async function trip(cause: { code: string; reason: string }): Promise<void> {
    const opened = await openCircuit(ctx, cause, opts.actor);
    if (!opened) return;
    logger.error(
      { event: 'circuit-open', code: cause.code, reason: cause.reason },
      'circuit opened: retire queue paused for all workers until an operator resumes it',
    );
    await incrementMetrics(ctx.redis, ctx.prefix, { [`circuit_opened:${cause.code}`]: 1 });
  }

  return {
    trip,
    async recordForbidden(user) {
      const [distinct, open] = (await runScript(
        ctx.redis,
        'forbidden',
        [forbiddenKey, circuitKey],
        [user, opts.forbiddenWindowMs],
      )) as [number, number];
      lastReset = 0;
      if (open === 1) return true;
      if (distinct >= opts.forbiddenThreshold) {
        await trip({
          code: 'forbidden_many',
          reason: `Graph answered 403 for ${distinct} different users within ${Math.round(opts.forbiddenWindowMs / 1000)} s: the app is probably missing DeviceManagementManagedDevices.PrivilegedOperations.All or admin consent`,
        });
        return true;
      }
      return false;
    },
    async onSuccess() {
      const now = Date.now();
      if (now - lastReset < 1000) return;
      lastReset = now;
      await ctx.redis.del(forbiddenKey);
    },
    async isOpen() {
      return (await getCircuit(ctx)).open;
    },
  };
}
