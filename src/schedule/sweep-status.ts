// Health of each schedule for on-call: when its last tick succeeded and failed, what the last
// successful tick found, and run counts. One hash for all schedules (`<schedule>:<field>`; schedule
// names cannot contain a colon), written at every tick, read by /metrics in one HGETALL.
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';
import type { SweepSummary } from './sweep.js';

type Ctx = Pick<QueueContext, 'redis' | 'prefix'>;

export interface SweepStatus {
  schedule: string;
  /** Epoch ms of the last successful tick; 0 = never. */
  lastSuccessMs: number;
  /** Epoch ms of the last failed tick (each failed attempt counts); 0 = never. */
  lastFailureMs: number;
  /** Items of the last successful tick. */
  items: { found: number; new: number; duplicate: number; invalid: number };
  /** The last successful tick was held by the mass-change guard. */
  held: boolean;
  runs: { success: number; failure: number };
}

const ITEM_FIELDS = ['found', 'new', 'duplicate', 'invalid'] as const;

export async function recordSweepSuccess(ctx: Ctx, s: SweepSummary, now = Date.now()): Promise<void> {
  const key = keys.sweepStatus(ctx.prefix);
  const f = (name: string) => `${s.schedule}:${name}`;
  await ctx.redis
    .multi()
    .hset(key, {
      [f('last_success_ms')]: String(now),
      [f('found')]: String(s.found),
      [f('new')]: String(s.new),
      [f('duplicate')]: String(s.duplicate),
      [f('invalid')]: String(s.invalid),
      [f('held')]: s.held ? '1' : '0',
    })
    .hincrby(key, f('runs_success'), 1)
    .exec();
}

export async function recordSweepFailure(ctx: Ctx, schedule: string, now = Date.now()): Promise<void> {
  const key = keys.sweepStatus(ctx.prefix);
  await ctx.redis
    .multi()
    .hset(key, `${schedule}:last_failure_ms`, String(now))
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
    ...ITEM_FIELDS,
  ].map((f) => `${schedule}:${f}`);
  await ctx.redis.hdel(key, ...fields);
}

export async function readSweepStatuses(redis: RedisClient, prefix: string): Promise<SweepStatus[]> {
  const raw = await redis.hgetall(keys.sweepStatus(prefix));
  const byName = new Map<string, Record<string, number>>();
  for (const [field, value] of Object.entries(raw)) {
    const at = field.lastIndexOf(':');
    if (at <= 0) continue;
    const name = field.slice(0, at);
    const n = Number(value);
    if (!byName.has(name)) byName.set(name, {});
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
      },
      held: v.held === 1,
      runs: { success: v.runs_success ?? 0, failure: v.runs_failure ?? 0 },
    }))
    .sort((a, b) => a.schedule.localeCompare(b.schedule));
}
