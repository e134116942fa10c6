// deploy/prometheus/offboard-alerts.yml: the alerts the operating guide promises (circuit open, dead
// letters, backlog age) exist, and every series and label they use is one the real API exposes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../../src/api/server.js';
import { createLogger } from '../../src/log.js';
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
  const res = await fetch(`${api.url}/metrics`);
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

  it('each has a severity, a summary and a runbook pointer', () => {
    for (const r of rules) {
      expect(['warning', 'critical'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary, r.alert).toBeTruthy();
      expect(r.annotations.runbook, r.alert).toBeTruthy();
    }
  });

  it('use only metrics the API exposes on /metrics', () => {
    const exposed = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const used = new Set(rules.flatMap((r) => [...r.expr.matchAll(/\boffboard_[a-z_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThan(4);
    expect([...used].filter((m) => !exposed.has(m))).toEqual([]);
  });

  it('use label values the API really emits', () => {
    expect(exposition).toMatch(/^offboard_queue_jobs\{queue="retire",state="waiting"\} \d+/m);
    expect(exposition).toMatch(/^offboard_queue_jobs\{queue="dead-letter",state="waiting"\} \d+/m);
    expect(exposition).toMatch(/^offboard_circuit_open\{[^}]*\} 0/m);
    expect(exposition).toMatch(/^offboard_queue_paused(\{\})? 0/m);
    expect(exposition).toMatch(/^offboard_redis_up(\{\})? 1/m);
  });
});
