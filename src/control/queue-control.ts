// Pausing, resuming and the circuit: one shared state in Redis that every worker and the API see.
// The circuit is the systemic-failure brake: it pauses the retire queue instead of dead-lettering
// thousands of jobs when credentials or permissions are broken. Only an operator closes it.
import type { CircuitState } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';

export interface PauseInfo {
  reason: string;
  actor: string;
  at: string;
}

export async function pauseQueue(
  ctx: QueueContext,
  actor: string,
  reason = 'paused by operator',
): Promise<void> {
  const info: PauseInfo = { reason, actor, at: new Date().toISOString() };
  await ctx.redis.set(keys.pauseReason(ctx.prefix), JSON.stringify(info));
  await ctx.retire.pause();
  await appendAudit(ctx, { type: 'paused', actor, at: info.at, details: { reason } });
}

/** Resumes the retire queue and closes the circuit if it was open (the operator fixed the cause). */
export async function resumeQueue(ctx: QueueContext, actor: string): Promise<{ circuitWasOpen: boolean }> {
  const circuit = await getCircuit(ctx);
  // The 403 and 400 judges start afresh: answers from before the fix must not count towards the next
  // verdict.
  await ctx.redis.del(
    keys.circuit(ctx.prefix),
    keys.pauseReason(ctx.prefix),
    keys.forbidden(ctx.prefix),
    keys.readForbidden(ctx.prefix),
    keys.rejected(ctx.prefix, 'retire'),
    keys.rejected(ctx.prefix, 'inventory'),
  );
  await ctx.redis.incr(keys.resumeGeneration(ctx.prefix));
  await ctx.retire.resume();
  await appendAudit(ctx, {
    type: 'resumed',
    actor,
    at: new Date().toISOString(),
    details: circuit.open ? { closedCircuit: circuit.code } : {},
  });
  return { circuitWasOpen: circuit.open };
}

/**
 * Opens the circuit once (SET NX) and pauses the queue for all workers. Returns true for the caller
 * that opened it, so only one error log and audit entry fire per incident.
 */
export async function openCircuit(
  ctx: QueueContext,
  cause: { code: string; reason: string },
  actor = `worker:${process.pid}`,
): Promise<boolean> {
  const state: CircuitState = {
    open: true,
    code: cause.code,
    reason: cause.reason,
    openedAt: new Date().toISOString(),
    openedBy: actor,
  };
  // Pause first, then publish the circuit: whoever sees it open (readiness, operators, tests) also
  // sees the queue paused. Pausing is idempotent, so every reporter pauses, not just the first.
  await ctx.retire.pause();
  const set = await ctx.redis.set(keys.circuit(ctx.prefix), JSON.stringify(state), 'NX');
  if (set !== 'OK') return false;
  const info: PauseInfo = { reason: `circuit open: ${cause.reason}`, actor, at: state.openedAt as string };
  await ctx.redis.set(keys.pauseReason(ctx.prefix), JSON.stringify(info));
  await appendAudit(ctx, {
    type: 'circuit-open',
    actor,
    at: info.at,
    details: { code: cause.code, reason: cause.reason },
  });
  return true;
}

export async function getCircuit(ctx: Pick<QueueContext, 'redis' | 'prefix'>): Promise<CircuitState> {
  const raw = await ctx.redis.get(keys.circuit(ctx.prefix));
  if (!raw) return { open: false };
  try {
    return { ...(JSON.parse(raw) as CircuitState), open: true };
  } catch {
    return { open: true, code: 'unknown', reason: 'circuit state unreadable' };
  }
}

export interface ThrottleStatus {
  /** Calls per second the shared pacer currently allows (configured rate × GRAPH_RATE_HEADROOM × adaptive factor). */
  ratePerSecond: number;
  /** Adaptive factor in (0, 1]: drops on 429, climbs back slowly. */
  factor: number;
  /** Set while a Retry-After pause is in force: no new Graph call starts before this instant. */
  pausedUntil: string | null;
  configured: { limit: number; windowMs: number; headroom: number };
}

export interface QueueStatus {
  retire: Record<string, number>;
  deadLetter: Record<string, number>;
  paused: boolean;
  pause: PauseInfo | null;
  circuit: CircuitState;
  throttle: ThrottleStatus;
}

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;

export async function getThrottleStatus(ctx: QueueContext): Promise<ThrottleStatus> {
  const [gate, factorRaw] = await Promise.all([
    ctx.redis.get(keys.throttleGate(ctx.prefix)),
    ctx.redis.hget(keys.pacer(ctx.prefix), 'factor'),
  ]);
  const { limit, windowMs } = ctx.config.graph.rateLimit;
  const headroom = ctx.config.graph.rateHeadroom;
  const factor = factorRaw ? Math.min(1, Math.max(0, Number(factorRaw))) : 1;
  const gateMs = gate ? Number(gate) : 0;
  return {
    // The pacer aims at limit × headroom (pacing/pacer.ts), then scales by the adaptive factor.
    ratePerSecond: Math.round(((limit * 1000) / windowMs) * headroom * factor * 1000) / 1000,
    factor,
    pausedUntil: gateMs > Date.now() ? new Date(gateMs).toISOString() : null,
    configured: { limit, windowMs, headroom },
  };
}

export async function getQueueStatus(ctx: QueueContext): Promise<QueueStatus> {
  const [retire, deadLetter, paused, pauseRaw, circuit, throttle] = await Promise.all([
    ctx.retire.getJobCounts(...STATES),
    ctx.deadLetter.getJobCounts('waiting'),
    ctx.retire.isPaused(),
    ctx.redis.get(keys.pauseReason(ctx.prefix)),
    getCircuit(ctx),
    getThrottleStatus(ctx),
  ]);
  let pause: PauseInfo | null = null;
  if (paused && pauseRaw) {
    try {
      pause = JSON.parse(pauseRaw) as PauseInfo;
    } catch {
      pause = { reason: 'unknown', actor: 'unknown', at: '' };
    }
  }
  const dl = { total: deadLetter.waiting ?? 0 };
  return { retire, deadLetter: dl, paused, pause, circuit, throttle };
}
