// What on-call needs beyond counters: are workers alive, how old is the oldest ready job, are held
// batches about to expire unnoticed, are the scheduled sweeps healthy, when does the certificate
// expire. All read from Redis at scrape time (one shared read per scrape), like fleet.ts.
import type { Metric, Registry } from 'prom-client';
import type { RetireJobData } from '../../interfaces.js';
import type { QueueContext } from '../../queue/context.js';
import { keys } from '../../queue/names.js';
import { type CertificateExpiry, readCertificateExpiries } from '../../records/credential-expiry.js';
import { readSweepStatuses, type SweepStatus } from '../../schedule/sweep-status.js';
import { redisDown } from '../errors.js';
import { type Sample, SnapshotMetric, sharedRead } from './fleet.js';

/** A worker beats every 10 s (host/heartbeat.ts); three missed beats and it counts as gone. */
const WORKER_MAX_AGE_MS = 30_000;
/** Waiting jobs looked at from the old end of the list (put-back jobs may sit in front of older ones). */
const OLDEST_SCAN = 20;
/** Batches looked at, newest first; far more than the guard lets one deployment hold. */
const BATCH_SCAN = 1000;

interface OnCallSnapshot {
  up: boolean;
  workersAlive: number;
  /** Seconds the oldest ready job has waited; 0 without waiting jobs. */
  oldestWaitingAge: number;
  heldBatches: number;
  oldestHeldAge: number;
  sweeps: SweepStatus[];
  certificates: CertificateExpiry[];
  now: number;
}

const DOWN: Omit<OnCallSnapshot, 'now'> = {
  up: false,
  workersAlive: 0,
  oldestWaitingAge: 0,
  heldBatches: 0,
  oldestHeldAge: 0,
  sweeps: [],
  certificates: [],
};

async function workersAlive(ctx: QueueContext, now: number): Promise<number> {
  const beats = await ctx.redis.hgetall(keys.workers(ctx.prefix));
  return Object.values(beats).filter((at) => now - Number(at) <= WORKER_MAX_AGE_MS).length;
}

/**
 * When a waiting job became ready: its request, its leave moment (a promoted future-dated job), or
 * the start of its last attempt (a retry back from backoff, a job put back by the circuit), whichever
 * is latest. BullMQ resets a promoted job's delay, so the job's own fields are all there is.
 */
function readySince(fields: (string | null)[]): number | null {
  const [timestamp, processedOn, data] = fields;
  if (timestamp === null || timestamp === undefined) return null;
  let effective = 0;
  try {
    effective = Date.parse((JSON.parse(data ?? '{}') as Partial<RetireJobData>).effectiveAt ?? '') || 0;
  } catch {
    // unreadable data: the job's timestamps still say enough
  }
  return Math.max(Number(timestamp) || 0, Number(processedOn) || 0, effective);
}

async function oldestWaitingAge(ctx: QueueContext, now: number): Promise<number> {
  // BullMQ pushes new and promoted jobs on the left and workers take from the right: the oldest
  // ready jobs are at the right end.
  const ids = await ctx.redis.lrange(ctx.retire.keys.wait as string, -OLDEST_SCAN, -1);
  if (ids.length === 0) return 0;
  const pipeline = ctx.redis.pipeline();
  for (const id of ids) pipeline.hmget(ctx.retire.toKey(id), 'timestamp', 'processedOn', 'data');
  const rows = (await pipeline.exec()) ?? [];
  let oldest = now;
  for (const [err, value] of rows) {
    if (err) throw err;
    const since = readySince(value as (string | null)[]);
    if (since !== null && since < oldest) oldest = since;
  }
  return Math.max(0, (now - oldest) / 1000);
}

async function heldBatches(ctx: QueueContext, now: number): Promise<{ count: number; oldestAge: number }> {
  const ids = await ctx.redis.zrevrange(keys.batches(ctx.prefix), 0, BATCH_SCAN - 1);
  if (ids.length === 0) return { count: 0, oldestAge: 0 };
  const pipeline = ctx.redis.pipeline();
  for (const id of ids) pipeline.hmget(keys.batch(ctx.prefix, id), 'state', 'createdAtMs', 'expiresAtMs');
  const rows = (await pipeline.exec()) ?? [];
  let count = 0;
  let oldest = now;
  for (const [err, value] of rows) {
    if (err) throw err;
    const [state, created, expires] = value as (string | null)[];
    // A held batch past its expiry is expired at the next housekeeping tick; it is no longer waiting.
    if (state !== 'held' || Number(expires) <= now) continue;
    count += 1;
    oldest = Math.min(oldest, Number(created) || now);
  }
  return { count, oldestAge: count === 0 ? 0 : Math.max(0, (now - oldest) / 1000) };
}

function snapshotReader(ctx: QueueContext): () => Promise<OnCallSnapshot> {
  return sharedRead(async () => {
    const now = Date.now();
    if (redisDown(ctx.redis)) return { ...DOWN, now };
    try {
      const [alive, oldest, batches, sweeps, certificates] = await Promise.all([
        workersAlive(ctx, now),
        oldestWaitingAge(ctx, now),
        heldBatches(ctx, now),
        readSweepStatuses(ctx.redis, ctx.prefix),
        readCertificateExpiries(ctx.redis, ctx.prefix, now),
      ]);
      return {
        up: true,
        workersAlive: alive,
        oldestWaitingAge: oldest,
        heldBatches: batches.count,
        oldestHeldAge: batches.oldestAge,
        sweeps,
        certificates,
        now,
      };
    } catch {
      return { ...DOWN, now };
    }
  });
}

const seconds = (ms: number) => ms / 1000;

export function registerOnCallMetrics(registry: Registry, ctx: QueueContext): void {
  const read = snapshotReader(ctx);
  const add = (
    name: string,
    help: string,
    type: 'counter' | 'gauge',
    compute: (s: OnCallSnapshot) => Sample[],
  ) =>
    registry.registerMetric(
      new SnapshotMetric<OnCallSnapshot>(name, help, type, read, (s) =>
        s.up ? compute(s) : [],
      ) as unknown as Metric,
    );
  const one = (value: number): Sample[] => [{ labels: {}, value }];

  add(
    'offboard_workers_alive',
    'Worker processes whose heartbeat is younger than 30 s (zero: nothing is retired, future-dated leavers are never promoted)',
    'gauge',
    (s) => one(s.workersAlive),
  );
  add(
    'offboard_queue_oldest_waiting_age_seconds',
    'How long the oldest ready (waiting) retire job has been waiting; 0 when none waits',
    'gauge',
    (s) => one(Math.round(s.oldestWaitingAge * 1000) / 1000),
  );
  add(
    'offboard_batches_held',
    'Bulk submissions held by the mass-change guard, waiting for approval',
    'gauge',
    (s) => one(s.heldBatches),
  );
  add(
    'offboard_batches_oldest_held_age_seconds',
    'Age of the oldest held batch; it expires unapproved at GUARD_TTL. 0 when none is held',
    'gauge',
    (s) => one(Math.round(s.oldestHeldAge)),
  );
  add(
    'offboard_guard_ttl_seconds',
    'GUARD_TTL: how long a held batch waits for approval before it expires',
    'gauge',
    () => one(seconds(ctx.config.guard.ttlMs)),
  );
  add(
    'offboard_sweep_last_success_timestamp_seconds',
    'When each schedule last swept its source successfully (Unix time; 0 = never)',
    'gauge',
    (s) => s.sweeps.map((w) => ({ labels: { schedule: w.schedule }, value: seconds(w.lastSuccessMs) })),
  );
  add(
    'offboard_sweep_last_failure_timestamp_seconds',
    'When a tick of each schedule last failed (Unix time; 0 = never); newer than the last success = failing',
    'gauge',
    (s) => s.sweeps.map((w) => ({ labels: { schedule: w.schedule }, value: seconds(w.lastFailureMs) })),
  );
  add(
    'offboard_sweep_last_items',
    'Leavers in the last successful tick of each schedule, by kind (found, new, duplicate, invalid; entra schedules also rescheduled, withdrawn)',
    'gauge',
    (s) =>
      s.sweeps.flatMap((w) =>
        Object.entries(w.items).map(([kind, value]) => ({ labels: { schedule: w.schedule, kind }, value })),
      ),
  );
  add(
    'offboard_sweep_runs_total',
    'Sweep ticks by schedule and result (each failed attempt counts)',
    'counter',
    (s) =>
      s.sweeps.flatMap((w) => [
        { labels: { schedule: w.schedule, result: 'success' }, value: w.runs.success },
        { labels: { schedule: w.schedule, result: 'failure' }, value: w.runs.failure },
      ]),
  );
  // The end time itself, not days left: Prometheus convention, exact, and alerts compute with time().
  add(
    'offboard_certificate_expiry_timestamp_seconds',
    'When the client certificate running workers sign in with expires (Unix time), per certificate (SHA-256 thumbprint)',
    'gauge',
    (s) =>
      s.certificates.map((c) => ({
        labels: { thumbprint: c.thumbprint },
        value: Math.floor(c.notAfterMs / 1000),
      })),
  );
}
