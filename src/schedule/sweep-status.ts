// Health of each schedule for on-call: when its last tick succeeded and failed, what the last
// successful tick found, and run counts. One hash for all schedules (`<schedule>:<field>`; schedule
// names cannot contain a colon), written at every tick, read by /metrics in one HGETALL.
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';
import type { SweepSummary } from './sweep-summary.js';

type Ctx = Pick<QueueContext, 'redis' | 'prefix'>;

export interface SweepStatus {
  schedule: string;
  /** Epoch ms of the last successful tick; 0 = never. */
  lastSuccessMs: number;
  /** Epoch ms of the last failed tick (each failed attempt counts); 0 = never. */
  lastFailureMs: number;
  /** Items of the last successful tick (rescheduled and withdrawn: reconciled entra schedules only). */
  items: {
    found: number;
    new: number;
    duplicate: number;
    invalid: number;
    rescheduled: number;
    withdrawn: number;
  };
  /** Why the last failed tick failed (kept after a later success; failing = lastFailureMs > lastSuccessMs). */
  lastError?: string;
  /**
   * Entra sources: epoch ms at which the last complete read started, where the next read's window
   * begins (a missed tick or an outage is caught up). 0 = never read.
   */
  lastReadMs: number;
  /** The last successful tick was held by the mass-change guard. */
  held: boolean;
  runs: { success: number; failure: number };
}

const ITEM_FIELDS = ['found', 'new', 'duplicate', 'invalid', 'rescheduled', 'withdrawn'] as const;

/** The reason a tick whose withdrawals were refused records (schedule list, console, GET /v1/queues). */
export const MASS_WITHDRAWAL = 'mass_withdrawal';

function massWithdrawalReason(s: SweepSummary): string {
  const m = s.massWithdrawal;
  return `${MASS_WITHDRAWAL}: ${m?.count} pending leavers would be withdrawn at once (more than GUARD_THRESHOLD=${m?.threshold}); none was withdrawn. Fix the leave dates in the source, or allow it once: offboard schedule run ${s.schedule} --allow-mass-withdrawal --as NAME`;
}

/**
 * Records a completed tick. A tick whose withdrawals were refused (mass_withdrawal) counts as a
 * failure: the schedule shows as failing (and alerts) until a tick withdraws normally or an operator
 * overrides. Its read was complete and its other work done, so the next window still starts there.
 */
export async function recordSweepSuccess(ctx: Ctx, s: SweepSummary, now = Date.now()): Promise<void> {
  const key = keys.sweepStatus(ctx.prefix);
  const f = (name: string) => `${s.schedule}:${name}`;
  const read = s.window ? { [f('last_read_ms')]: String(Date.parse(s.window.readAt)) } : {};
  if (s.massWithdrawal?.blocked) {
    await ctx.redis
      .multi()
      .hset(key, {
        [f('last_failure_ms')]: String(now),
        [f('last_error')]: massWithdrawalReason(s).slice(0, 500),
        ...read,
      })
      .hincrby(key, f('runs_failure'), 1)
      .exec();
    return;
  }
  await ctx.redis
    .multi()
    .hset(key, {
      [f('last_success_ms')]: String(now),
      [f('found')]: String(s.found),
      [f('new')]: String(s.new),
      [f('duplicate')]: String(s.duplicate),
      [f('invalid')]: String(s.invalid),
      [f('rescheduled')]: String(s.rescheduled ?? 0),
      [f('withdrawn')]: String(s.withdrawn ?? 0),
      [f('held')]: s.held ? '1' : '0',
      ...read,
    })
    .hincrby(key, f('runs_success'), 1)
    .exec();
}

export async function recordSweepFailure(
  ctx: Ctx,
  schedule: string,
  now = Date.now(),
  reason?: string,
): Promise<void> {
  const key = keys.sweepStatus(ctx.prefix);
  await ctx.redis
    .multi()
    .hset(key, {
      [`${schedule}:last_failure_ms`]: String(now),
      [`${schedule}:last_error`]: (reason ?? 'unknown error').slice(0, 500),
    })
    .hincrby(key, `${schedule}:runs_failure`, 1)
    .exec();
}

/** Drops a removed schedule's status so /metrics stops reporting it. */
export async function forgetSweepStatus(ctx: Ctx, schedule: string): Promise<void> {
  const key = keys.sweepStatus(ctx.prefix);
  const fields = [
    'last_success_ms',
    'last_failure_ms',
    'held',
    'runs_success',
    'runs_failure',
    'last_error',
    'last_read_ms',
    ...ITEM_FIELDS,
  ].map((f) => `${schedule}:${f}`);
  await ctx.redis.hdel(key, ...fields);
}

export async function readSweepStatuses(redis: RedisClient, prefix: string): Promise<SweepStatus[]> {
  const raw = await redis.hgetall(keys.sweepStatus(prefix));
  const byName = new Map<string, Record<string, number>>();
  const errors = new Map<string, string>();
  for (const [field, value] of Object.entries(raw)) {
    const at = field.lastIndexOf(':');
    if (at <= 0) continue;
    const name = field.slice(0, at);
    if (!byName.has(name)) byName.set(name, {});
    if (field.slice(at + 1) === 'last_error') {
      errors.set(name, value);
      continue;
    }
    const n = Number(value);
    (byName.get(name) as Record<string, number>)[field.slice(at + 1)] = Number.isFinite(n) ? n : 0;
  }
  return [...byName.entries()]
    .map(([schedule, v]) => ({
      schedule,
      lastSuccessMs: v.last_success_ms ?? 0,
      lastFailureMs: v.last_failure_ms ?? 0,
      items: {
        found: v.found ?? 0,
        new: v.new ?? 0,
        duplicate: v.duplicate ?? 0,
        invalid: v.invalid ?? 0,
        rescheduled: v.rescheduled ?? 0,
        withdrawn: v.withdrawn ?? 0,
      },
      ...(errors.has(schedule) ? { lastError: errors.get(schedule) } : {}),
      lastReadMs: v.last_read_ms ?? 0,
      held: v.held === 1,
      runs: { success: v.runs_success ?? 0, failure: v.runs_failure ?? 0 },
    }))
    .sort((a, b) => a.schedule.localeCompare(b.schedule));
}

/** Epoch ms at which the schedule's last complete entra read started; null before the first one. */
export async function lastReadMs(ctx: Ctx, schedule: string): Promise<number | null> {
  const v = Number(await ctx.redis.hget(keys.sweepStatus(ctx.prefix), `${schedule}:last_read_ms`));
  return Number.isFinite(v) && v > 0 ? v : null;
}

export interface ScheduleHealth {
  /** `failing`: the last failed tick is newer than the last good one; `not_run`: no tick yet. */
  state: 'healthy' | 'failing' | 'not_run';
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  /** Why the last failed tick failed (e.g. `mass_withdrawal: …`), also after a later success. */
  lastFailureReason: string | null;
}

/**
 * Each schedule's health by name, for GET /v1/queues: two reads (the schedule names and the status
 * hash), so a queue status poll stays cheap. Schedules that never ticked are `not_run`.
 */
export async function scheduleHealth(ctx: Ctx): Promise<Record<string, ScheduleHealth>> {
  const [names, statuses] = await Promise.all([
    ctx.redis.hkeys(keys.schedules(ctx.prefix)),
    readSweepStatuses(ctx.redis, ctx.prefix),
  ]);
  const at = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);
  // A Map, not an object: a schedule may be named `constructor`.
  const out = new Map<string, ScheduleHealth>();
  for (const name of [...names].sort()) {
    out.set(name, { state: 'not_run', lastSuccessAt: null, lastFailureAt: null, lastFailureReason: null });
  }
  for (const s of statuses) {
    // A status without a schedule is a leftover of a removed one (removal forgets it; a race may not).
    if (!out.has(s.schedule)) continue;
    out.set(s.schedule, {
      state: s.lastFailureMs > s.lastSuccessMs ? 'failing' : s.lastSuccessMs > 0 ? 'healthy' : 'not_run',
      lastSuccessAt: at(s.lastSuccessMs),
      lastFailureAt: at(s.lastFailureMs),
      lastFailureReason: s.lastError ?? null,
    });
  }
  return Object.fromEntries(out);
}
