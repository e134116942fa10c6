// Worker-side counters live in one Redis hash so the API (which never runs jobs) can expose the
// whole fleet's figures on /metrics. Field names are stable: the API maps them to Prometheus series.
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';

/** Upper bounds in seconds for the Graph call latency histogram. */
export const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

export type MetricFields = Record<string, number>;

/** Fields for one Graph call: `graph_calls:<status>`, the (non-cumulative) bucket `graph_latency_bucket:<status>:<le>`, sum and count. */
export function graphCallFields(status: number | 'timeout' | 'network', seconds: number): MetricFields {
  const s = String(status);
  const out: MetricFields = {
    [`graph_calls:${s}`]: 1,
    [`graph_latency_count:${s}`]: 1,
    [`graph_latency_sum:${s}`]: seconds,
  };
  // Only the one bucket the call falls into: readers sum them into Prometheus's cumulative buckets.
  // Writing every bucket at or above it cost a dozen HINCRBYs per Graph call on the worker's hot path.
  const le = LATENCY_BUCKETS.find((b) => seconds <= b);
  out[`graph_latency_bucket:${s}:${le ?? '+Inf'}`] = 1;
  if (status === 429) out.graph_throttled = 1;
  return out;
}

/** Other counters: `outcome:<retired|dry_run>`, `dead_letter:<reason>`, `retries`, `throttled_waits`, `circuit_opened:<code>`. */
export async function incrementMetrics(
  redis: RedisClient,
  prefix: string,
  fields: MetricFields,
): Promise<void> {
  const entries = Object.entries(fields).filter(([, v]) => v !== 0);
  if (entries.length === 0) return;
  const pipeline = redis.pipeline();
  const key = keys.metrics(prefix);
  for (const [field, value] of entries) {
    if (Number.isInteger(value)) pipeline.hincrby(key, field, value);
    else pipeline.hincrbyfloat(key, field, value);
  }
  await pipeline.exec();
}

export async function readMetrics(redis: RedisClient, prefix: string): Promise<MetricFields> {
  const raw = await redis.hgetall(keys.metrics(prefix));
  const out: MetricFields = {};
  for (const [k, v] of Object.entries(raw)) out[k] = Number(v);
  return out;
}
