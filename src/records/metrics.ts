// Worker-side counters live in one Redis hash so the API (which never runs jobs) can expose the
// whole fleet's figures on /metrics. Field names are stable: the API maps them to Prometheus series.
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';

/** Upper bounds in seconds for the Graph call latency histogram. */
export const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

export type MetricFields = Record<string, number>;

/** Fields for one Graph call: `graph_calls:<status>`, the (non-cumulative) bucket `graph_latency_bucket:<status>:<le>`, sum and count. */
export function graphCallFields(status: number | 'timeout' | 'network', seconds: number): MetricFields {
  const names = callFieldNames(status);
  const out: MetricFields = {};
  out[names.calls] = 1;
  out[names.count] = 1;
  out[names.sum] = seconds;
  // Only the one bucket the call falls into: readers sum them into Prometheus's cumulative buckets.
  // Writing every bucket at or above it cost a dozen HINCRBYs per Graph call on the worker's hot path.
  const i = LATENCY_BUCKETS.findIndex((b) => seconds <= b);
  out[names.buckets[i < 0 ? LATENCY_BUCKETS.length : i] as string] = 1;
  return out;
}

interface CallFieldNames {
  calls: string;
  count: string;
  sum: string;
  /** One per LATENCY_BUCKETS bound, then `+Inf`. */
  buckets: string[];
}

/** Field names per status, built once: the worker names four fields for every Graph call. */
const callFieldCache = new Map<string, CallFieldNames>();

function callFieldNames(status: number | 'timeout' | 'network'): CallFieldNames {
  const s = String(status);
  let names = callFieldCache.get(s);
  if (!names) {
    names = {
      calls: `graph_calls:${s}`,
      count: `graph_latency_count:${s}`,
      sum: `graph_latency_sum:${s}`,
      buckets: [...LATENCY_BUCKETS, '+Inf'].map((le) => `graph_latency_bucket:${s}:${le}`),
    };
    // Statuses are a small set (HTTP codes, timeout, network): the cache stays tiny.
    if (callFieldCache.size < 200) callFieldCache.set(s, names);
  }
  return names;
}

/** Upper bounds in seconds for the time from request (or leave moment, if later) to a terminal outcome. */
export const OUTCOME_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400] as const;

/**
 * Fields for one terminal outcome (`retired`, `dry_run`, `dead_lettered`): the (non-cumulative)
 * bucket `outcome_latency_bucket:<outcome>:<le>`, sum and count, summed on read like Graph latency.
 */
export function outcomeLatencyFields(outcome: string, seconds: number): MetricFields {
  const s = Math.max(0, seconds);
  const le = OUTCOME_BUCKETS.find((b) => s <= b);
  return {
    [`outcome_latency_bucket:${outcome}:${le ?? '+Inf'}`]: 1,
    [`outcome_latency_count:${outcome}`]: 1,
    [`outcome_latency_sum:${outcome}`]: s,
  };
}

/**
 * Other counters: `outcome:<retired|no_devices|dry_run>`, `dead_letter:<reason>`, `retries`, `throttled_waits`,
 * `circuit_opened:<code>`, `notify:<webhook|resume>:<ok|retry|failed>` (src/notify); device reads
 * (src/evidence): `read_calls:<status>`, `inventories`, `devices_inventoried`, `read_retries`.
 */
export async function incrementMetrics(
  redis: RedisClient,
  prefix: string,
  fields: MetricFields,
): Promise<void> {
  const buffer = buffers.get(redis)?.get(prefix);
  if (buffer) {
    buffer.add(fields);
    return;
  }
  await writeMetrics(redis, prefix, fields);
}

/**
 * Adds to the installed buffer synchronously (no promise on the worker's hot path). False when no
 * buffer is installed for this client and prefix: call incrementMetrics instead.
 */
export function bufferIncrement(redis: RedisClient, prefix: string, fields: MetricFields): boolean {
  const buffer = buffers.get(redis)?.get(prefix);
  if (!buffer) return false;
  buffer.add(fields);
  return true;
}

/** Writes at once even while a buffer is installed (rare, alerting counters such as circuit_opened). */
export function incrementMetricsNow(redis: RedisClient, prefix: string, fields: MetricFields): Promise<void> {
  return writeMetrics(redis, prefix, fields);
}

async function writeMetrics(
  redis: RedisClient,
  prefix: string,
  fields: MetricFields,
  hashes?: Map<string, { fields: Map<string, number>; ttlSec: number }>,
): Promise<void> {
  const entries = Object.entries(fields).filter(([, v]) => v !== 0);
  if (entries.length === 0 && !hashes?.size) return;
  const pipeline = redis.pipeline();
  const key = keys.metrics(prefix);
  for (const [field, value] of entries) {
    if (Number.isInteger(value)) pipeline.hincrby(key, field, value);
    else pipeline.hincrbyfloat(key, field, value);
  }
  for (const [hashKey, h] of hashes ?? []) {
    for (const [field, value] of h.fields) pipeline.hincrby(hashKey, field, value);
    pipeline.expire(hashKey, h.ttlSec);
  }
  const results = await pipeline.exec();
  const failed = results?.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
}

const buffers = new WeakMap<RedisClient, Map<string, MetricsBuffer>>();

/**
 * Adds to another counter hash through the installed buffer (written with the next flush, then
 * EXPIRE ttlSec). False when no buffer is installed for this client and prefix: write it yourself.
 */
export function bufferHashIncrement(
  redis: RedisClient,
  prefix: string,
  key: string,
  fields: Record<string, number>,
  ttlSec: number,
): boolean {
  const buffer = buffers.get(redis)?.get(prefix);
  if (!buffer) return false;
  buffer.addToHash(key, fields, ttlSec);
  return true;
}

/**
 * Fleet counters accumulated in the process and written as one pipeline per interval (default 1 s)
 * instead of one per Graph call and outcome. While a buffer is installed for a client and prefix,
 * `incrementMetrics` on them only adds to it. `close()` writes what is left: a SIGTERM loses
 * nothing; a SIGKILL loses at most the last interval's counters (never a record: records, audit and
 * dead letters are written synchronously with the job). A failed write keeps the counts for the next.
 */
export class MetricsBuffer {
  private pending = new Map<string, number>();
  /** Other counter hashes (e.g. per-minute call counts): key → field → increment, and their TTL. */
  private hashes = new Map<string, { fields: Map<string, number>; ttlSec: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** Flush interval in ms. Default 1000. */
    readonly intervalMs = 1000,
  ) {
    let byPrefix = buffers.get(redis);
    if (!byPrefix) {
      byPrefix = new Map();
      buffers.set(redis, byPrefix);
    }
    byPrefix.set(prefix, this);
  }

  add(fields: MetricFields): void {
    for (const [field, value] of Object.entries(fields)) {
      if (value === 0 || !Number.isFinite(value)) continue;
      this.pending.set(field, (this.pending.get(field) ?? 0) + value);
    }
    this.schedule();
  }

  /** Integer increments of another counter hash, written with the next flush (then EXPIRE ttlSec). */
  addToHash(key: string, fields: Record<string, number>, ttlSec: number): void {
    let h = this.hashes.get(key);
    if (!h) {
      h = { fields: new Map(), ttlSec };
      this.hashes.set(key, h);
    }
    for (const [field, value] of Object.entries(fields))
      h.fields.set(field, (h.fields.get(field) ?? 0) + value);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) {
      void this.flush().catch(() => undefined);
      return;
    }
    if (!this.timer && (this.pending.size > 0 || this.hashes.size > 0)) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush().catch(() => undefined);
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes the counts gathered so far (one pipeline); on failure they are kept for the next flush. */
  flush(): Promise<void> {
    const next = this.flushing.then(async () => {
      if (this.pending.size === 0 && this.hashes.size === 0) return;
      const batch = this.pending;
      const hashes = this.hashes;
      this.pending = new Map();
      this.hashes = new Map();
      try {
        await writeMetrics(this.redis, this.prefix, Object.fromEntries(batch), hashes);
      } catch (err) {
        for (const [field, value] of batch) this.pending.set(field, (this.pending.get(field) ?? 0) + value);
        for (const [key, h] of hashes) this.addToHash(key, Object.fromEntries(h.fields), h.ttlSec);
        throw err;
      }
    });
    this.flushing = next.catch(() => undefined);
    return next;
  }

  /** Final flush; later increments on this client and prefix are written directly again. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const byPrefix = buffers.get(this.redis);
    if (byPrefix?.get(this.prefix) === this) byPrefix.delete(this.prefix);
    await this.flush();
  }
}

export async function readMetrics(redis: RedisClient, prefix: string): Promise<MetricFields> {
  const raw = await redis.hgetall(keys.metrics(prefix));
  const out: MetricFields = {};
  for (const [k, v] of Object.entries(raw)) out[k] = Number(v);
  return out;
}
