// The fleet's figures on /metrics. Workers count into one Redis hash (records/metrics.ts) and the
// queues live in Redis, so each scrape reads one snapshot from Redis and turns it into Prometheus
// series. If Redis is down the scrape still answers: `offboard_redis_up 0` and no fleet series.
import type { Metric, Registry } from 'prom-client';
import { getQueueStatus, type QueueStatus } from '../../control/queue-control.js';
import { countByVerificationState } from '../../evidence/store.js';
import { notifyCounts } from '../../notify/queue.js';
import type { QueueContext } from '../../queue/context.js';
import { LATENCY_BUCKETS, type MetricFields, OUTCOME_BUCKETS, readMetrics } from '../../records/metrics.js';
import { redisDown } from '../errors.js';

interface Snapshot {
  up: boolean;
  fields: MetricFields;
  status: QueueStatus | null;
  deadLetterCounts: Record<string, number>;
  /** The notify queue (webhooks, Lifecycle Workflows resume); `failed` are its dead letters. */
  notifyCounts: Record<string, number>;
}

export type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

/** A metric whose values are computed at scrape time from a snapshot shared by a group of series. */
export class SnapshotMetric<S = Snapshot> {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly read: () => Promise<S>,
    private readonly compute: (s: S) => Sample[],
  ) {}
  async get() {
    const snapshot = await this.read();
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.compute(snapshot),
    };
  }
  reset(): void {}
}

/** Fields `prefix:<a>[:<b>]` → [[a, b], value]. */
function fieldsWith(fields: MetricFields, prefix: string): [string[], number][] {
  const out: [string[], number][] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (k.startsWith(`${prefix}:`) && Number.isFinite(v))
      out.push([k.slice(prefix.length + 1).split(':'), v]);
  }
  return out;
}

/**
 * A histogram stored as `<field>_bucket:<label value>:<le>` (each observation in its own bucket
 * only), `<field>_sum:<label value>` and `<field>_count:<label value>`. Prometheus buckets are
 * cumulative, so they are summed here.
 */
function storedHistogram(
  fields: MetricFields,
  name: string,
  field: string,
  label: string,
  buckets: readonly number[],
): Sample[] {
  const values = new Set(fieldsWith(fields, `${field}_count`).map(([[v]]) => v as string));
  const out: Sample[] = [];
  for (const v of [...values].sort()) {
    let value = 0;
    for (const le of [...buckets.map(String), '+Inf']) {
      value += fields[`${field}_bucket:${v}:${le}`] ?? 0;
      out.push({ metricName: `${name}_bucket`, labels: { [label]: v, le }, value });
    }
    out.push({ metricName: `${name}_sum`, labels: { [label]: v }, value: fields[`${field}_sum:${v}`] ?? 0 });
    out.push({
      metricName: `${name}_count`,
      labels: { [label]: v },
      value: fields[`${field}_count:${v}`] ?? 0,
    });
  }
  return out;
}

/** One shared read per scrape: the registry asks every series at once; the next scrape reads afresh. */
export function sharedRead<S>(take: () => Promise<S>): () => Promise<S> {
  let inflight: Promise<S> | null = null;
  return () => {
    if (!inflight) {
      inflight = take().finally(() => {
        inflight = null;
      });
    }
    return inflight;
  };
}

function snapshotReader(ctx: QueueContext): () => Promise<Snapshot> {
  const take = async (): Promise<Snapshot> => {
    if (redisDown(ctx.redis))
      return { up: false, fields: {}, status: null, deadLetterCounts: {}, notifyCounts: {} };
    try {
      const [fields, status, deadLetterCounts, notify] = await Promise.all([
        readMetrics(ctx.redis, ctx.prefix),
        getQueueStatus(ctx),
        ctx.deadLetter.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
        notifyCounts(ctx),
      ]);
      return { up: true, fields, status, deadLetterCounts, notifyCounts: notify };
    } catch {
      return { up: false, fields: {}, status: null, deadLetterCounts: {}, notifyCounts: {} };
    }
  };
  return sharedRead(take);
}

export function registerFleetMetrics(registry: Registry, ctx: QueueContext): void {
  const read = snapshotReader(ctx);
  const add = (
    name: string,
    help: string,
    type: 'counter' | 'gauge' | 'histogram',
    compute: (s: Snapshot) => Sample[],
  ) => registry.registerMetric(new SnapshotMetric(name, help, type, read, compute) as unknown as Metric);

  add('offboard_redis_up', 'Whether the API reached Redis for this scrape', 'gauge', (s) => [
    { labels: {}, value: s.up ? 1 : 0 },
  ]);
  add(
    'offboard_jobs_total',
    'Finished retire jobs by outcome (retired, dry_run, dead_lettered) and dead-letter reason',
    'counter',
    (s) => [
      ...fieldsWith(s.fields, 'outcome').map(([[outcome], value]) => ({
        labels: { outcome: outcome as string, reason: '' },
        value,
      })),
      ...fieldsWith(s.fields, 'dead_letter').map(([[reason], value]) => ({
        labels: { outcome: 'dead_lettered', reason: reason as string },
        value,
      })),
    ],
  );
  add('offboard_graph_calls_total', 'Graph calls by HTTP status (or timeout, network)', 'counter', (s) =>
    fieldsWith(s.fields, 'graph_calls').map(([[status], value]) => ({
      labels: { status: status as string },
      value,
    })),
  );
  add('offboard_graph_call_duration_seconds', 'Graph call latency by HTTP status', 'histogram', (s) =>
    storedHistogram(
      s.fields,
      'offboard_graph_call_duration_seconds',
      'graph_latency',
      'status',
      LATENCY_BUCKETS,
    ),
  );
  add(
    'offboard_time_to_outcome_seconds',
    'Time from request (or leave moment, when later) to the terminal outcome: retired, dry_run, dead_lettered',
    'histogram',
    (s) =>
      storedHistogram(
        s.fields,
        'offboard_time_to_outcome_seconds',
        'outcome_latency',
        'outcome',
        OUTCOME_BUCKETS,
      ),
  );
  add('offboard_retries_total', 'Retries after transient Graph failures', 'counter', (s) => [
    { labels: {}, value: s.fields.retries ?? 0 },
  ]);
  add('offboard_throttled_waits_total', 'Jobs put back to wait for a Retry-After window', 'counter', (s) => [
    { labels: {}, value: s.fields.throttled_waits ?? 0 },
  ]);
  add('offboard_circuit_opened_total', 'Times the circuit opened, by cause', 'counter', (s) =>
    fieldsWith(s.fields, 'circuit_opened').map(([[code], value]) => ({
      labels: { code: code as string },
      value,
    })),
  );
  add(
    'offboard_circuit_open',
    'Whether the circuit is open (the retire queue paused for a systemic failure)',
    'gauge',
    (s) =>
      s.status
        ? [
            {
              labels: { code: s.status.circuit.open ? (s.status.circuit.code ?? 'unknown') : '' },
              value: s.status.circuit.open ? 1 : 0,
            },
          ]
        : [],
  );
  add('offboard_queue_jobs', 'Jobs per queue and state', 'gauge', (s) => {
    if (!s.status) return [];
    const out: Sample[] = [];
    for (const [state, value] of Object.entries(s.status.retire))
      out.push({ labels: { queue: 'retire', state }, value });
    for (const [state, value] of Object.entries(s.deadLetterCounts)) {
      out.push({ labels: { queue: 'dead-letter', state }, value });
    }
    for (const [state, value] of Object.entries(s.notifyCounts))
      out.push({ labels: { queue: 'notify', state }, value });
    return out;
  });
  add(
    'offboard_notify_deliveries_total',
    'Outcome notification attempts by kind (webhook, resume) and result (ok, retry, failed = gave up)',
    'counter',
    (s) =>
      fieldsWith(s.fields, 'notify').map(([[kind, result], value]) => ({
        labels: { kind: kind as string, result: (result ?? '') as string },
        value,
      })),
  );
  add('offboard_queue_paused', 'Whether the retire queue is paused', 'gauge', (s) =>
    s.status ? [{ labels: {}, value: s.status.paused ? 1 : 0 }] : [],
  );
  add(
    'offboard_throttle_rate_per_second',
    'Graph calls per second the shared pacer allows now (GRAPH_RATE_LIMIT × GRAPH_RATE_HEADROOM × adaptive factor)',
    'gauge',
    (s) => (s.status ? [{ labels: {}, value: s.status.throttle.ratePerSecond }] : []),
  );
  add('offboard_throttle_paused', 'Whether a Retry-After pause is in force', 'gauge', (s) =>
    s.status ? [{ labels: {}, value: s.status.throttle.pausedUntil ? 1 : 0 }] : [],
  );
  // Reads (device inventory, verification): their own budget (GRAPH_READ_RATE_LIMIT), counted apart.
  add(
    'offboard_graph_read_calls_total',
    'Graph read calls (device inventory and verification pages) by HTTP status (429 = read throttled), or timeout, network',
    'counter',
    (s) =>
      fieldsWith(s.fields, 'read_calls').map(([[status], value]) => ({
        labels: { status: status as string },
        value,
      })),
  );
  add(
    'offboard_devices_inventoried_total',
    'Managed devices found by the inventory before the retire action',
    'counter',
    (s) => [{ labels: {}, value: s.fields.devices_inventoried ?? 0 }],
  );
  add('offboard_inventories_total', 'Leavers whose devices were inventoried', 'counter', (s) => [
    { labels: {}, value: s.fields.inventories ?? 0 },
  ]);
  // Evidence (src/evidence): verification after the action.
  add(
    'offboard_devices_retired_total',
    'Inventoried devices verification saw retired (gone from Intune)',
    'counter',
    (s) => [{ labels: {}, value: s.fields.devices_retired ?? 0 }],
  );
  add(
    'offboard_verifications_total',
    'Leaver verifications ended, by state (verified, unverified)',
    'counter',
    // Both states always (0 until the first): increase() in alert rules misses a series' first sample.
    (s) =>
      (['verified', 'unverified'] as const).map((state) => ({
        labels: { state },
        value: s.fields[`verification:${state}`] ?? 0,
      })),
  );
  add('offboard_verify_checks_total', 'Verification checks made (one device read each)', 'counter', (s) => [
    { labels: {}, value: s.fields.verify_checks ?? 0 },
  ]);
  // Counted from the state indexes at scrape time (three ZCOUNTs), so expired evidence drops out.
  const leavers = sharedRead(async () =>
    redisDown(ctx.redis)
      ? null
      : countByVerificationState(ctx.redis, ctx.prefix, ctx.config.evidence.retentionMs).catch(() => null),
  );
  registry.registerMetric(
    new SnapshotMetric(
      'offboard_evidence_leavers',
      'Leavers with evidence by verification state (pending, verified, unverified) within EVIDENCE_RETENTION',
      'gauge',
      leavers,
      (c) => (c ? Object.entries(c).map(([state, value]) => ({ labels: { state }, value })) : []),
    ) as unknown as Metric,
  );
}
