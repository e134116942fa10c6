// deploy/prometheus/offboard-alerts.yml: the alerts the operating guide promises (circuit open, dead
// letters, backlog age) exist, and every series and label they use is one the real API exposes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../../src/api/server.js';
import { createLogger } from '../../src/log.js';
import { startCertificatePublisher } from '../../src/records/credential-expiry.js';
import { createRedis } from '../../src/redis/connection.js';
import { recordSweepSuccess } from '../../src/schedule/sweep-status.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Doc, yamlDocs } from './files.js';

const rules = (yamlDocs('deploy/prometheus/offboard-alerts.yml')[0] as Doc).groups.flatMap(
  (g: Doc) => g.rules,
) as {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}[];

let redis: TestRedis;
let api: RunningApi;
let exposition = '';

beforeAll(async () => {
  redis = await startRedis();
  const config = testConfig({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `${redis.prefix}alerts`,
    API_AUTH: 'disabled',
    API_PORT: '0',
    API_HOST: '127.0.0.1',
  });
  api = await startApi(config, { logger: createLogger({ level: 'silent' }) });
  // A schedule that has swept once and a worker's certificate, so their labelled series exist.
  const redisClient = createRedis(config.redis);
  await recordSweepSuccess(
    { redis: redisClient, prefix: config.redis.prefix },
    {
      schedule: 'nightly',
      tick: new Date().toISOString(),
      source: 'http',
      found: 3,
      new: 3,
      duplicate: 0,
      invalid: 0,
      held: null,
      dryRun: false,
    },
  );
  const publisher = startCertificatePublisher({
    redis: redisClient,
    prefix: config.redis.prefix,
    workerId: 'alerts-host:1',
    cert: {
      thumbprintSha256: 'ab'.repeat(32),
      notAfter: new Date(Date.now() + 45.5 * 86_400_000).toISOString(),
    },
  });
  await redisClient.ping(); // the publisher's write (same connection) has landed
  const res = await fetch(`${api.url}/metrics`);
  await publisher.stop();
  redisClient.disconnect();
  expect(res.status).toBe(200);
  exposition = await res.text();
});

afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

describe('alert rules', () => {
  it('cover circuit open, dead letters and backlog age', () => {
    const exprs = rules.map((r) => r.expr).join('\n');
    expect(exprs).toMatch(/offboard_circuit_open\)? == 1/);
    expect(exprs).toMatch(/offboard_queue_jobs\{queue="dead-letter", state="waiting"\}\)? > 0/);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['OffboardBacklogNotDraining', 'OffboardBacklogSlow']),
    );
  });

  it('measure backlog age and on-call health instead of estimating them', () => {
    const expr = (name: string) => rules.find((r) => r.alert === name)?.expr ?? '';
    // Backlog age is the oldest ready job's, not waiting count ÷ completion rate.
    expect(expr('OffboardBacklogSlow')).toMatch(/max\(offboard_queue_oldest_waiting_age_seconds\) > 3600/);
    expect(expr('OffboardBacklogNotDraining')).toContain('offboard_queue_oldest_waiting_age_seconds');
    expect(expr('OffboardSlowOutcomes')).toContain('offboard_time_to_outcome_seconds_bucket');
    // Zero workers is an incident even with an empty queue (future-dated leavers are never promoted).
    expect(expr('OffboardNoWorkers').trim()).toBe('max(offboard_workers_alive) == 0');
    // A held batch is flagged at half of GUARD_TTL, long before it expires unnoticed.
    expect(expr('OffboardBatchAwaitingApproval')).toMatch(
      /offboard_batches_oldest_held_age_seconds\) > 0\.5 \* max\(offboard_guard_ttl_seconds\)/,
    );
    expect(expr('OffboardSweepFailing')).toMatch(
      /offboard_sweep_last_failure_timestamp_seconds\)\s+> max by \(schedule\) \(offboard_sweep_last_success_timestamp_seconds\)/,
    );
    expect(expr('OffboardCertificateExpiring')).toMatch(
      /^\(min by \(thumbprint\) \(offboard_certificate_expiry_timestamp_seconds\) - time\(\)\) \/ 86400 < 30$/,
    );
    // 429s are counted once, in offboard_graph_calls_total.
    expect(expr('OffboardGraphThrottling')).toContain('offboard_graph_calls_total{status="429"}');
  });

  it('each has a severity, a summary and a runbook pointer', () => {
    for (const r of rules) {
      expect(['warning', 'critical'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary, r.alert).toBeTruthy();
      expect(r.annotations.runbook, r.alert).toBeTruthy();
    }
  });

  it('use only metrics the API exposes on /metrics', () => {
    const types = new Map([...exposition.matchAll(/^# TYPE (\S+) (\S+)/gm)].map((m) => [m[1], m[2]]));
    // A histogram's series are <name>_bucket, <name>_sum and <name>_count.
    const exposed = (name: string) =>
      types.has(name) || types.get(name.replace(/_(bucket|sum|count)$/, '')) === 'histogram';
    const used = new Set(rules.flatMap((r) => [...r.expr.matchAll(/\boffboard_[a-z_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThan(12);
    expect([...used].filter((m) => !exposed(m))).toEqual([]);
  });

  it('use label values the API really emits', () => {
    expect(exposition).toMatch(/^offboard_queue_jobs\{queue="retire",state="waiting"\} \d+/m);
    expect(exposition).toMatch(/^offboard_queue_jobs\{queue="dead-letter",state="waiting"\} \d+/m);
    expect(exposition).toMatch(/^offboard_circuit_open\{[^}]*\} 0/m);
    expect(exposition).toMatch(/^offboard_queue_paused(\{\})? 0/m);
    expect(exposition).toMatch(/^offboard_redis_up(\{\})? 1/m);
    expect(exposition).toMatch(/^offboard_workers_alive(\{\})? 0/m);
    expect(exposition).toMatch(/^offboard_queue_oldest_waiting_age_seconds(\{\})? 0/m);
    expect(exposition).toMatch(/^offboard_batches_oldest_held_age_seconds(\{\})? 0/m);
    expect(exposition).toMatch(/^offboard_guard_ttl_seconds(\{\})? 259200/m);
    expect(exposition).toMatch(/^# TYPE offboard_time_to_outcome_seconds histogram/m);
    // Per-schedule and per-certificate series carry the labels the rules group by.
    expect(exposition).toMatch(/^offboard_sweep_last_success_timestamp_seconds\{schedule="nightly"\} \d+/m);
    expect(exposition).toMatch(/^offboard_sweep_last_failure_timestamp_seconds\{schedule="nightly"\} 0/m);
    // The expiry is a Unix time in seconds (the test certificate ends in about 45 days).
    const expiry = exposition.match(
      /^offboard_certificate_expiry_timestamp_seconds\{thumbprint="[0-9a-f]{64}"\} (\d+)$/m,
    );
    const daysLeft = (Number(expiry?.[1]) - Date.now() / 1000) / 86400;
    expect(daysLeft).toBeGreaterThan(40);
    expect(daysLeft).toBeLessThan(50);
    expect(exposition).not.toContain('offboard_certificate_days_left');
  });

  it('follow Prometheus naming: counters end in _total, no gauge does, times are *_timestamp_seconds', () => {
    const types = [...exposition.matchAll(/^# TYPE (offboard_\S+) (\S+)/gm)].map(
      (m) => [String(m[1]), String(m[2])] as const,
    );
    expect(types.length).toBeGreaterThan(30);
    const wrong = types.filter(([name, type]) =>
      type === 'counter' ? !name.endsWith('_total') : name.endsWith('_total'),
    );
    expect(wrong).toEqual([]);
    // Points in time are Unix seconds named *_timestamp_seconds; nothing is published in days.
    expect(types.filter(([name]) => /_days?(_|$)/.test(name))).toEqual([]);
    const times = types.filter(([name]) => name.includes('timestamp'));
    expect(times.length).toBeGreaterThan(2);
    expect(times.filter(([name, type]) => type !== 'gauge' || !name.endsWith('_timestamp_seconds'))).toEqual(
      [],
    );
  });
});
