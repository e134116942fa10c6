// Systemic-failure detection. A broken credential, a revoked consent or a permission missing for the
// whole app is not the user's fault: instead of dead-lettering thousands of jobs, the circuit opens,
// the retire queue pauses for every worker, and the job that noticed goes back to the queue intact.

import type { Logger } from '../log.js';
import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { incrementMetricsNow } from '../records/metrics.js';
import { openCircuit } from './queue-control.js';

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
  /**
   * Minimum sample: 403s from at least this many distinct users inside the window
   * (CIRCUIT_FORBIDDEN_THRESHOLD, default 5) before their share is judged at all.
   */
  forbiddenThreshold: number;
  forbiddenWindowMs: number;
  /**
   * 403s are systemic when the users who got one are at least this share of the distinct users called
   * inside the window (CIRCUIT_FORBIDDEN_SHARE, default 0.5). Default 0.5.
   */
  forbiddenShare?: number;
  actor?: string;
  /**
   * A circuit of one tenant (src/tenants/circuit.ts): its own judge keys, and its own way to open
   * (parks that tenant's jobs instead of pausing the queue for every tenant). Default: the deployment's.
   */
  scope?: CircuitScope;
}

export interface CircuitScope {
  keys: {
    circuit: string;
    forbidden: string;
    readForbidden: string;
    rejected: (shape: RequestShape) => string;
    healthWindow: string;
    readHealthWindow: string;
  };
  /** Opens this circuit once; true for the caller that opened it. */
  open(cause: { code: string; reason: string }, actor?: string): Promise<boolean>;
  /** Log fields naming the scope (`{ tenant }`). */
  fields?: Record<string, string>;
}

export interface ForbiddenVerdict {
  systemic: boolean;
  /** Distinct users with a 403, and distinct users called, inside the window. */
  forbidden: number;
  sample: number;
}

export interface Circuit {
  /** Opens the circuit and pauses the queue; one error log and one metric per incident (fleet-wide). */
  trip(cause: { code: string; reason: string }): Promise<void>;
  /**
   * Counts a 403 for this user; true when 403s are systemic (a high share of the distinct users
   * called in the window, with a minimum sample) or the circuit is already open. A few 403s in a
   * big batch (users outside the app's scope tags) are not: those users are dead-lettered `forbidden`.
   */
  recordForbidden(user: string): Promise<boolean>;
  /**
   * The same judge for a 403 on a device READ (inventory, verification), in keys of its own and
   * against the users read in the window: systemic → the circuit opens with `read_permission_missing`
   * (DeviceManagementManagedDevices.Read.All or its consent is missing). True when it is open.
   */
  recordReadForbidden(user: string): Promise<boolean>;
  /**
   * Counts a 400 for this user and request shape, judged like the 403s (minimum sample, share of the
   * distinct users called in the window): `systemic` → the circuit opens with `request_rejected`
   * naming status, Graph code and message (the product's request is wrong, not the users); `single`
   * → enough users were called to tell: this user's own 400; `undecided` → too few users called yet.
   * `systemic` also when the circuit is already open.
   */
  recordRejected(shape: RequestShape, user: string, answer: RejectedAnswer): Promise<RejectedVerdict>;
}

/** The request shapes a job sends (the judge keeps one sample per shape). */
export type RequestShape = 'retire' | 'inventory';

export interface RejectedAnswer {
  status: number | null;
  code?: string;
  graphMessage?: string;
}

export type RejectedVerdict = 'systemic' | 'single' | 'undecided';

const SHAPE_NAMES: Record<RequestShape, string> = {
  retire: 'the retire action (POST removeAllDevicesFromManagement)',
  inventory: 'the device inventory read (GET managedDevices)',
};

/** The 403 rule on its own (tested directly): minimum distinct users, then a share of the sample. */
export function forbiddenIsSystemic(
  forbidden: number,
  sample: number,
  rule: { threshold: number; share: number },
): boolean {
  return forbidden >= rule.threshold && forbidden >= rule.share * Math.max(sample, forbidden);
}

export function createCircuit(opts: CircuitOptions): Circuit {
  const { ctx, logger } = opts;
  const scope = opts.scope;
  const k = scope?.keys ?? {
    circuit: keys.circuit(ctx.prefix),
    forbidden: keys.forbidden(ctx.prefix),
    readForbidden: keys.readForbidden(ctx.prefix),
    rejected: (shape: RequestShape) => keys.rejected(ctx.prefix, shape),
    healthWindow: keys.healthWindow(ctx.prefix),
    readHealthWindow: keys.readHealthWindow(ctx.prefix),
  };
  const forbiddenKey = k.forbidden;
  const circuitKey = k.circuit;
  const rule = { threshold: opts.forbiddenThreshold, share: opts.forbiddenShare ?? 0.5 };

  async function trip(cause: { code: string; reason: string }): Promise<void> {
    const opened = scope ? await scope.open(cause, opts.actor) : await openCircuit(ctx, cause, opts.actor);
    if (!opened) return;
    logger.error(
      { event: 'circuit-open', code: cause.code, reason: cause.reason, ...scope?.fields },
      scope
        ? 'circuit opened for one tenant: its jobs are parked until an operator resumes it'
        : 'circuit opened: retire queue paused for all workers until an operator resumes it',
    );
    // Rare and alerting: written at once, not with the buffered counters.
    await incrementMetricsNow(ctx.redis, ctx.prefix, { [`circuit_opened:${cause.code}`]: 1 });
  }

  /** Counts a 403 in `key`; [distinct 403 users, distinct users answered, circuit already open]. */
  async function judge(key: string, windowKey: string, user: string): Promise<[number, number, number]> {
    return (
      (await runScript(
        ctx.redis,
        'circuit/forbidden',
        [key, circuitKey, windowKey],
        [user, opts.forbiddenWindowMs, Math.max(opts.forbiddenWindowMs, ctx.config.worker.failureWindowMs)],
      )) as [number, number, number]
    ).map(Number) as [number, number, number];
  }

  return {
    trip,
    async recordReadForbidden(user) {
      const [forbidden, sample, open] = await judge(k.readForbidden, k.readHealthWindow, user);
      if (open === 1) return true;
      if (!forbiddenIsSystemic(forbidden, sample, rule)) return false;
      const secs = Math.round(opts.forbiddenWindowMs / 1000);
      await trip({
        code: 'read_permission_missing',
        reason: `Graph answered 403 to the device inventory read for ${forbidden} of the ${sample} different users read within ${secs} s: the app is probably missing DeviceManagementManagedDevices.Read.All or its admin consent (or set EVIDENCE=off)`,
      });
      return true;
    },
    async recordRejected(shape, user, answer) {
      const windowKey = shape === 'inventory' ? k.readHealthWindow : k.healthWindow;
      const [rejected, sample, open] = await judge(k.rejected(shape), windowKey, user);
      if (open === 1) return 'systemic';
      if (forbiddenIsSystemic(rejected, sample, rule)) {
        const secs = Math.round(opts.forbiddenWindowMs / 1000);
        const what = [`HTTP ${answer.status ?? '-'}`, answer.code].filter(Boolean).join(' ');
        const message = answer.graphMessage ? `: "${answer.graphMessage.slice(0, 300)}"` : '';
        await trip({
          code: 'request_rejected',
          reason: `Graph answered ${what} to ${SHAPE_NAMES[shape]} for ${rejected} of the ${sample} different users called within ${secs} s${message}. The request the product sends is refused, not the users: nobody was dead-lettered; fix the cause (configuration, version), then resume`,
        });
        return 'systemic';
      }
      return sample >= rule.threshold ? 'single' : 'undecided';
    },
    async recordForbidden(user) {
      const [forbidden, sample, open] = await judge(forbiddenKey, k.healthWindow, user);
      if (open === 1) return true;
      if (forbiddenIsSystemic(forbidden, sample, rule)) {
        const secs = Math.round(opts.forbiddenWindowMs / 1000);
        await trip({
          code: 'forbidden_many',
          reason: `Graph answered 403 for ${forbidden} of the ${sample} different users called within ${secs} s: the app is probably missing DeviceManagementManagedDevices.PrivilegedOperations.All or admin consent`,
        });
        return true;
      }
      return false;
    },
  };
}
