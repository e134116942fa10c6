// What on-call reads on /metrics (issue 11 §2): workers alive, age of the oldest ready job, time from
// request to outcome (observed by a real worker against the Graph simulator), held batches and
// their age, sweep health per schedule, certificate expiry time, build info and standard process
// series. Everything is written by the real product code into a real Redis and read through the API.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientCertificate } from '../../src/entra/certificate.js';
import { submitBulk } from '../../src/front-door/front-door.js';
import { publishCertificateExpiry } from '../../src/host/certificate-expiry.js';
import { keys } from '../../src/queue/names.js';
import { startCertificatePublisher } from '../../src/records/credential-expiry.js';
import { runSweep } from '../../src/schedule/sweep.js';
import { type Simulator, startSimulator } from '../../src/sim/index.js';
import { secondsSinceDue } from '../../src/worker/outcome-metrics.js';
import { testConfig } from '../helpers/config.js';
import { enqueueUsers, startTestWorker, waitForOutcomes, workerConfig } from '../helpers/worker.js';
import { bearer, KEYS, type TestApi, testApp } from './helpers.js';

let t: TestApi;
let sim: Simulator;

beforeAll(async () => {
  t = await testApp({ GUARD_THRESHOLD: '3', GUARD_TTL: '1h' });
  sim = await startSimulator({ latencyMs: 5 });
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

async function scrape(): Promise<string> {
  const res = await t.app.inject({ url: '/metrics', headers: bearer(KEYS.viewer) });
  expect(res.statusCode).toBe(200);
  return res.body;
}

function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

const retireData = (user: string, extra: Record<string, unknown> = {}) => ({
  user,
  dryRun: false,
  correlationId: `c-${user}`,
  requestedBy: 'test',
  requestedAt: new Date().toISOString(),
  source: 'cli' as const,
  ...extra,
});

describe('a deployment with nothing running', () => {
  it('reports zero workers, no waiting job, no held batch, GUARD_TTL, build info and standard process series', async () => {
    const m = await scrape();
    expect(sample(m, 'offboard_workers_alive')).toBe(0);
    expect(sample(m, 'offboard_queue_oldest_waiting_age_seconds')).toBe(0);
    expect(sample(m, 'offboard_batches_held')).toBe(0);
    expect(sample(m, 'offboard_batches_oldest_held_age_seconds')).toBe(0);
    expect(sample(m, 'offboard_guard_ttl_seconds')).toBe(3600);
    expect(m).toMatch(
      /^offboard_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v\d+[^"]*",platform="[^"]+"\} 1$/m,
    );
    // prom-client's standard names, which the usual Node.js dashboards query.
    expect(m).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(m).toMatch(/^# TYPE nodejs_eventloop_lag_seconds gauge/m);
    expect(m).not.toContain('offboard_api_process_');
    expect(m).not.toContain('offboard_api_nodejs_');
    // The duplicate of offboard_graph_calls_total{status="429"} is gone.
    expect(m).not.toContain('offboard_graph_throttled_total');
    // The pace the pacer really aims at: 200/20 s × GRAPH_RATE_HEADROOM 0.97.
    expect(sample(m, 'offboard_throttle_rate_per_second')).toBe(9.7);
  });
});

describe('sweep health per schedule', () => {
  let feed: Server;
  let failing = false;
  let url = '';
  beforeAll(async () => {
    feed = createServer((_req, res) => {
      if (failing) {
        res.writeHead(503).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ user: 'feed-1@contoso.com' }, { user: 'not a user' }]));
    });
    await new Promise<void>((r) => feed.listen(0, '127.0.0.1', r));
    const a = feed.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/leavers`;
  });
  afterAll(async () => new Promise<void>((r) => feed.close(() => r())));

  it('shows the last success with its items, then a newer failure when the feed breaks', async () => {
    const def = { name: 'nightly', cron: '0 2 * * *', tz: 'UTC', source: { type: 'http' as const, url } };
    const before = Date.now() / 1000;
    const summary = await runSweep(t.ctx, def);
    expect(summary).toMatchObject({ found: 2, new: 1, invalid: 1 });
    let m = await scrape();
    const success = sample(m, 'offboard_sweep_last_success_timestamp_seconds{schedule="nightly"}') as number;
    expect(success).toBeGreaterThanOrEqual(Math.floor(before));
    expect(sample(m, 'offboard_sweep_last_failure_timestamp_seconds{schedule="nightly"}')).toBe(0);
    expect(sample(m, 'offboard_sweep_last_items{schedule="nightly",kind="found"}')).toBe(2);
    expect(sample(m, 'offboard_sweep_last_items{schedule="nightly",kind="new"}')).toBe(1);
    expect(sample(m, 'offboard_sweep_last_items{schedule="nightly",kind="invalid"}')).toBe(1);
    expect(sample(m, 'offboard_sweep_runs_total{schedule="nightly",result="success"}')).toBe(1);

    failing = true;
    await new Promise((r) => setTimeout(r, 20));
    await expect(runSweep(t.ctx, def)).rejects.toThrow();
    m = await scrape();
    const failure = sample(m, 'offboard_sweep_last_failure_timestamp_seconds{schedule="nightly"}') as number;
    // The alert's condition: the last failure is newer than the last success.
    expect(failure).toBeGreaterThan(success);
    expect(sample(m, 'offboard_sweep_last_success_timestamp_seconds{schedule="nightly"}')).toBe(success);
    expect(sample(m, 'offboard_sweep_runs_total{schedule="nightly",result="failure"}')).toBe(1);

    failing = false;
    await runSweep(t.ctx, def);
    m = await scrape();
    expect(
      sample(m, 'offboard_sweep_last_success_timestamp_seconds{schedule="nightly"}') as number,
    ).toBeGreaterThan(failure);
  });
});

describe('workers and time to outcome', () => {
  it('counts live workers and observes request → outcome for retired and dead-lettered jobs', async () => {
    const config = workerConfig(t.redis, sim, t.config.redis.prefix);
    const worker = await startTestWorker(config);
    let closed = false;
    try {
      expect(sample(await scrape(), 'offboard_workers_alive')).toBe(1);
      const ids = await enqueueUsers(t.ctx, ['outcome-ok@contoso.com', 'notfound-outcome@contoso.com']);
      const outcomes = await waitForOutcomes(t.ctx, ids);
      expect(outcomes.map((o) => o.state)).toEqual(['completed', 'failed']);
      // Closing flushes the worker's buffered counters and removes its heartbeat.
      await worker.close();
      closed = true;
    } finally {
      if (!closed) await worker.close();
    }
    const m = await scrape();
    expect(sample(m, 'offboard_workers_alive')).toBe(0);
    expect(m).toContain('# TYPE offboard_time_to_outcome_seconds histogram');
    // The sweep above left a leaver in the queue too: the worker retired it as well.
    const counts = await t.ctx.retire.getJobCounts('completed', 'failed');
    const expected = { retired: counts.completed ?? 0, dead_lettered: counts.failed ?? 0 };
    expect(expected.retired).toBeGreaterThanOrEqual(1);
    expect(expected.dead_lettered).toBe(1);
    for (const [outcome, n] of Object.entries(expected)) {
      expect(sample(m, `offboard_time_to_outcome_seconds_count{outcome="${outcome}"}`), outcome).toBe(n);
      expect(sample(m, `offboard_time_to_outcome_seconds_bucket{outcome="${outcome}",le="+Inf"}`)).toBe(n);
      expect(sample(m, `offboard_time_to_outcome_seconds_bucket{outcome="${outcome}",le="60"}`)).toBe(n);
      const sum = sample(m, `offboard_time_to_outcome_seconds_sum{outcome="${outcome}"}`) as number;
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(60 * n);
    }
  });

  it('measures from the leave moment when it is later than the request', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    const job = (data: Record<string, unknown>) => ({
      data: retireData('x@contoso.com', data) as never,
      timestamp: 0,
    });
    expect(secondsSinceDue(job({ requestedAt: '2026-03-01T11:00:00Z' }), now)).toBe(3600);
    expect(
      secondsSinceDue(job({ requestedAt: '2026-02-01T00:00:00Z', effectiveAt: '2026-03-01T11:59:00Z' }), now),
    ).toBe(60);
  });
});

describe('age of the oldest ready job', () => {
  it('counts from the request, or from the leave moment of a promoted future-dated job', async () => {
    const now = Date.now();
    // Requested an hour ago for a leave moment 30 s ago: ready for 30 s, not an hour.
    await t.ctx.retire.add(
      'retire',
      retireData('promoted@contoso.com', { effectiveAt: new Date(now - 30_000).toISOString() }),
      {
        jobId: 'age-promoted',
        timestamp: now - 3_600_000,
      },
    );
    let age = sample(await scrape(), 'offboard_queue_oldest_waiting_age_seconds') as number;
    expect(age).toBeGreaterThanOrEqual(30);
    expect(age).toBeLessThan(40);
    await t.ctx.retire.add('retire', retireData('waiting@contoso.com'), {
      jobId: 'age-old',
      timestamp: now - 120_000,
    });
    age = sample(await scrape(), 'offboard_queue_oldest_waiting_age_seconds') as number;
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(130);
    await t.ctx.retire.obliterate({ force: true });
    expect(sample(await scrape(), 'offboard_queue_oldest_waiting_age_seconds')).toBe(0);
  });
});

describe('held batches', () => {
  it('counts held batches and the age of the oldest, against GUARD_TTL', async () => {
    const users = ['h1', 'h2', 'h3', 'h4'].map((u) => ({ user: `${u}@contoso.com` }));
    const first = await submitBulk(t.ctx, users, { requestedBy: 'hr', source: 'batch' });
    const second = await submitBulk(
      t.ctx,
      users.map((u) => ({ user: `b-${u.user}` })),
      {
        requestedBy: 'hr',
        source: 'batch',
      },
    );
    expect(first.held && second.held).toBe(true);
    if (!first.held) return;
    let m = await scrape();
    expect(sample(m, 'offboard_batches_held')).toBe(2);
    expect(sample(m, 'offboard_batches_oldest_held_age_seconds')).toBeLessThan(5);
    // The first batch has waited 40 minutes of its hour: past half of GUARD_TTL, the alert's threshold.
    await t.ctx.redis.hset(
      keys.batch(t.ctx.prefix, first.batch.id),
      'createdAtMs',
      String(Date.now() - 2_400_000),
    );
    m = await scrape();
    const age = sample(m, 'offboard_batches_oldest_held_age_seconds') as number;
    expect(age).toBeGreaterThanOrEqual(2400);
    expect(age).toBeGreaterThan(0.5 * (sample(m, 'offboard_guard_ttl_seconds') as number));
    // Expired (past its expiry) batches no longer count as waiting for approval.
    await t.ctx.redis.hset(keys.batch(t.ctx.prefix, first.batch.id), 'expiresAtMs', String(Date.now() - 1));
    expect(sample(await scrape(), 'offboard_batches_held')).toBe(1);
  });
});

describe('certificate expiry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offboard-oncall-cert-'));
  async function certFile(name: string, days: number): Promise<string> {
    const pems = await selfsigned.generate([{ name: 'commonName', value: name }], {
      keyType: 'rsa',
      keySize: 2048,
      notAfterDate: new Date(Date.now() + days * 86_400_000),
    });
    const path = join(dir, `${name}.pem`);
    writeFileSync(path, `${pems.private}\n${pems.cert}\n`);
    return path;
  }

  it('shows the expiry time of each certificate live workers publish, and forgets a stopped worker', async () => {
    const soon = await certFile('soon', 20);
    const cert = loadClientCertificate(soon);
    expect(Date.parse(cert.notAfter)).toBeGreaterThan(Date.now() + 19 * 86_400_000);
    const config = testConfig({
      REDIS_URL: t.redis.url,
      QUEUE_PREFIX: t.config.redis.prefix,
      AZURE_TENANT_ID: sim.tenantId,
      AZURE_CLIENT_ID: sim.clientId,
      AZURE_CLIENT_CERTIFICATE_PATH: soon,
    });
    const publisher = publishCertificateExpiry(config, t.ctx, 'host-a:1');
    expect(publisher).toBeDefined();
    // A second worker already rolled over to next year's certificate.
    const later = loadClientCertificate(await certFile('later', 400));
    const other = startCertificatePublisher({
      redis: t.ctx.redis,
      prefix: t.ctx.prefix,
      workerId: 'host-b:1',
      cert: later,
    });
    await new Promise((r) => setTimeout(r, 50));
    let m = await scrape();
    // The series is the expiry as Unix seconds: exactly the certificate's notAfter.
    const soonAt = sample(
      m,
      `offboard_certificate_expiry_timestamp_seconds{thumbprint="${cert.thumbprintSha256}"}`,
    ) as number;
    expect(soonAt).toBe(Math.floor(Date.parse(cert.notAfter) / 1000));
    const soonDays = (soonAt - Date.now() / 1000) / 86400;
    expect(soonDays).toBeGreaterThan(19.9);
    expect(soonDays).toBeLessThan(20.1);
    expect(
      sample(m, `offboard_certificate_expiry_timestamp_seconds{thumbprint="${later.thumbprintSha256}"}`),
    ).toBe(Math.floor(Date.parse(later.notAfter) / 1000));
    expect(m).not.toContain('offboard_certificate_days_left');
    await publisher?.stop();
    m = await scrape();
    expect(m).not.toContain(cert.thumbprintSha256);
    await other.stop();
    // A secret (not a certificate) publishes nothing.
    const secret = testConfig({
      REDIS_URL: t.redis.url,
      QUEUE_PREFIX: t.config.redis.prefix,
      AZURE_TENANT_ID: sim.tenantId,
      AZURE_CLIENT_ID: sim.clientId,
      AZURE_CLIENT_SECRET: 'x',
    });
    expect(publishCertificateExpiry(secret, t.ctx, 'host-c:1')).toBeUndefined();
  });
});
