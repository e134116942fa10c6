// Schedules are BullMQ job schedulers on the `sweep` queue: they live in Redis, so they survive
// restarts of every process, and BullMQ creates exactly one job per tick however many workers
// listen. The definition is kept twice: in the scheduler's job template (what each tick runs)
// and in the `schedules` hash (who added it and when, for listing).
import { Queue } from 'bullmq';
import type { QueueContext } from '../queue/context.js';
import { keys, SWEEP_QUEUE } from '../queue/names.js';
import {
  displaySource,
  isScheduleName,
  type ScheduleDef,
  type SweepSource,
  scheduleChecks,
  validateSchedule,
} from './definition.js';
import { ScheduleNotFoundError } from './errors.js';
import { forgetSweepStatus } from './sweep-status.js';

/** Internal scheduler ids contain a colon, which schedule names cannot, so they never collide. */
export const HOUSEKEEPING_ID = 'offboard:housekeeping';

export type SweepQueue = Queue<ScheduleDef | Record<string, never>>;

/**
 * A short-lived handle on the sweep queue sharing the context's queue connection (not `ctx.redis`:
 * BullMQ's scripts defined on a client slow down every pipeline created on it).
 */
export function openSweepQueue(
  ctx: Pick<QueueContext, 'redis' | 'prefix'> & Partial<Pick<QueueContext, 'queueConnection'>>,
): SweepQueue {
  const connection = ctx.queueConnection ?? ctx.redis;
  const queue: SweepQueue = new Queue(SWEEP_QUEUE, { connection, prefix: ctx.prefix });
  queue.on('error', () => {});
  return queue;
}

async function withQueue<T>(ctx: QueueContext, fn: (q: SweepQueue) => Promise<T>): Promise<T> {
  const queue = openSweepQueue(ctx);
  try {
    return await fn(queue);
  } finally {
    await queue.close().catch(() => {});
  }
}

/** Options of each tick's job: a failed source read is retried twice, a few finished jobs kept. */
const TICK_JOB_OPTS = {
  attempts: 3,
  backoff: { type: 'exponential' as const, delay: 5_000 },
  removeOnComplete: { count: 200 },
  removeOnFail: { count: 200 },
};

export interface ScheduleView extends ScheduleDef {
  /** Next tick, ISO 8601. */
  next?: string;
  addedBy?: string;
  addedAt?: string;
}

/** Adds or replaces a schedule (upsert by name). Throws InvalidScheduleError for a bad definition. */
export async function addSchedule(
  ctx: QueueContext,
  input: ScheduleDef,
  opts: { actor?: string } = {},
): Promise<ScheduleView> {
  const def = validateSchedule(input, scheduleChecks(ctx.config));
  const job = await withQueue(ctx, (q) =>
    q.upsertJobScheduler(
      def.name,
      { pattern: def.cron, tz: def.tz },
      { name: 'sweep', data: def, opts: TICK_JOB_OPTS },
    ),
  );
  const addedAt = new Date().toISOString();
  const record = { ...def, addedBy: opts.actor ?? 'unknown', addedAt };
  await ctx.redis.hset(keys.schedules(ctx.prefix), def.name, JSON.stringify(record));
  const next = job?.opts?.prevMillis ?? (job ? job.timestamp + (job.opts.delay ?? 0) : undefined);
  return { ...record, ...(next ? { next: new Date(next).toISOString() } : {}) };
}

/**
 * A schedule as it may be shown to anyone (console, CLI output, API): a feed URL as origin and path.
 * listSchedules/getSchedule keep the URL as stored, for the sweep that must call it.
 */
export function displayView<V extends { source?: SweepSource }>(view: V): V {
  return view.source ? { ...view, source: displaySource(view.source) } : view;
}

export async function listSchedules(ctx: QueueContext): Promise<ScheduleView[]> {
  const [schedulers, stored] = await Promise.all([
    withQueue(ctx, (q) => q.getJobSchedulers(0, -1, true)),
    ctx.redis.hgetall(keys.schedules(ctx.prefix)) as Promise<Record<string, string>>,
  ]);
  const out: ScheduleView[] = [];
  for (const s of schedulers) {
    if (s.key === HOUSEKEEPING_ID) continue;
    let record: Partial<ScheduleView> = {};
    try {
      record = JSON.parse(stored[s.key] ?? '{}') as Partial<ScheduleView>;
    } catch {
      // The scheduler's own template is the source of truth for what runs.
    }
    const template = (s.template?.data ?? {}) as Partial<ScheduleDef>;
    out.push({
      ...record,
      ...template,
      name: s.key,
      cron: s.pattern ?? template.cron ?? '',
      tz: s.tz ?? template.tz ?? 'UTC',
      source: (template.source ?? record.source) as ScheduleDef['source'],
      ...(s.next ? { next: new Date(s.next).toISOString() } : {}),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function getSchedule(ctx: QueueContext, name: string): Promise<ScheduleView> {
  const found = (await listSchedules(ctx)).find((s) => s.name === name);
  if (!found) throw new ScheduleNotFoundError(name);
  return found;
}

/** Removes the scheduler and its next pending tick. Throws ScheduleNotFoundError if unknown. */
export async function removeSchedule(ctx: QueueContext, name: string): Promise<void> {
  if (!isScheduleName(name)) throw new ScheduleNotFoundError(String(name));
  const removed = await withQueue(ctx, (q) => q.removeJobScheduler(name));
  const deleted = await ctx.redis.hdel(keys.schedules(ctx.prefix), name);
  await forgetSweepStatus(ctx, name);
  if (!removed && deleted === 0) throw new ScheduleNotFoundError(name);
}
