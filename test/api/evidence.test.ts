// GET /v1/evidence (viewer: one row per device, CSV or JSON, filtered by range, batch and state),
// POST /v1/offboardings/{id}/verify (operator, audited), the evidence in GET /v1/offboardings/{id}
// and on the status page. Evidence is seeded with the store's own saveEvidence on a real Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVIDENCE_COLUMNS } from '../../src/evidence/rows.js';
import { saveEvidence } from '../../src/evidence/store.js';
import { enqueue, enqueueMany } from '../../src/intake/enqueue.js';
import type { EvidenceRecord } from '../../src/interfaces.js';
import { VERIFY_QUEUE } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { ConsoleClient } from '../console/helpers.js';
import { startRedis } from '../helpers/redis.js';
import { startTestSimulator } from '../helpers/sim.js';
import { startTestWorker, workerConfig } from '../helpers/worker.js';
import { bearer, KEY_NAMES, KEYS, liveApi, pollUntil, type TestApi, testApp } from './helpers.js';

let t: TestApi;
const DAY = 86_400_000;
const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
// A fixed day well inside the 400-day limit: range tests name it explicitly.
const DAY0 = Date.parse(`${iso(now - 10 * DAY).slice(0, 10)}T00:00:00Z`);
const day0 = iso(DAY0).slice(0, 10);
const day1 = iso(DAY0 + DAY).slice(0, 10);

function record(jobId: string, over: Partial<EvidenceRecord> = {}): EvidenceRecord {
  const at = over.inventoriedAt ?? iso(now - 3_600_000);
  return {
    jobId,
    user: `${jobId}@contoso.com`,
    requestedBy: 'hr-system',
    correlationId: `c-${jobId}`,
    source: 'api',
    inventoriedAt: at,
    inventoryRequestIds: ['inv-1'],
    devices: [
      {
        id: `${jobId}-d1`,
        deviceName: 'LAPTOP-1',
        operatingSystem: 'Windows',
        osVersion: '10.0.22631',
        serialNumber: 'SN-1',
        managedDeviceOwnerType: 'company',
        managementState: 'managed',
      },
    ],
    action: { at, requestId: `req-${jobId}`, status: 204 },
    outcome: 'retired',
    verification: { state: 'pending', checks: 0, devices: [] },
    ...over,
  };
}

const save = (r: EvidenceRecord) => saveEvidence(t.ctx.redis, t.ctx.prefix, r, 400 * DAY);
const get = (url: string, key: string = KEYS.viewer) => t.app.inject({ url, headers: bearer(key) });

interface JsonExport {
  from: string;
  to: string;
  batch: string | null;
  state: string | null;
  columns: string[];
  rows: Record<string, string | null>[];
  leavers: number;
  count: number;
}

let realJobId: string;

beforeAll(async () => {
  t = await testApp();
  realJobId = (
    await enqueue(t.ctx, { user: 'real-job@contoso.com' }, { requestedBy: KEY_NAMES.producer, source: 'api' })
  ).id;
  await save(
    record(realJobId, {
      user: 'real-job@contoso.com',
      devices: [
        { id: 'rd-1', deviceName: 'Zoë’s iPhone', operatingSystem: 'iOS', managementState: 'managed' },
        { id: 'rd-2', deviceName: '=HYPERLINK("http://evil.example","click")', managementState: 'managed' },
      ],
      verification: {
        state: 'unverified',
        checks: 4,
        endedAt: iso(now - 60_000),
        devices: [
          { deviceId: 'rd-1', result: 'retired', stateAfter: null, checkedAt: iso(now - 120_000) },
          {
            deviceId: 'rd-2',
            result: 'not_retired',
            stateAfter: 'retirePending',
            checkedAt: iso(now - 60_000),
          },
        ],
      },
    }),
  );
  await save(
    record('verified-1', {
      batchId: 'batch-a',
      verification: {
        state: 'verified',
        checks: 1,
        endedAt: iso(now - 1000),
        devices: [
          { deviceId: 'verified-1-d1', result: 'retired', stateAfter: null, checkedAt: iso(now - 1000) },
        ],
      },
    }),
  );
  await save(
    record('nodev-1', {
      batchId: 'batch-a',
      devices: [],
      action: undefined,
      outcome: 'no_devices',
      verification: { state: 'not_applicable', checks: 0, devices: [] },
    }),
  );
  await save(record('pending-1'));
  // Outside the default 24 h: only found with an explicit range (or its batch).
  await save(record('old-1', { inventoriedAt: iso(DAY0), batchId: 'batch-old' }));
  await save(record('old-2', { inventoriedAt: iso(DAY0 + DAY - 1) }));
  await save(record('old-3', { inventoriedAt: iso(DAY0 + DAY) }));
});
afterAll(async () => t.close());

describe('GET /v1/evidence: roles', () => {
  it('lets viewers and operators read, refuses producers (403) and callers without a key (401)', async () => {
    expect((await get('/v1/evidence', KEYS.viewer)).statusCode).toBe(200);
    expect((await get('/v1/evidence', KEYS.operator)).statusCode).toBe(200);
    const producer = await get('/v1/evidence?format=csv', KEYS.producer);
    expect(producer.statusCode).toBe(403);
    expect(producer.body).not.toContain('contoso');
    const none = await t.app.inject({ url: '/v1/evidence' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toMatch(/json/);
    const wrong = await t.app.inject({ url: '/v1/evidence', headers: bearer('obk_not-a-key') });
    expect(wrong.statusCode).toBe(401);
  });
});

describe('GET /v1/evidence: content', () => {
  it('streams JSON: the filter, one row per device (one for a leaver without devices), counts', async () => {
    const res = await get('/v1/evidence');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as JsonExport;
    expect(body.columns).toEqual([...EVIDENCE_COLUMNS]);
    // Default range: the last 24 hours, so the old records are not in it.
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(DAY);
    const jobs = body.rows.map((r) => r.jobId);
    expect(new Set(jobs)).toEqual(new Set([realJobId, 'verified-1', 'nodev-1', 'pending-1']));
    expect(body.leavers).toBe(4);
    expect(body.count).toBe(5);
    expect(body.rows).toHaveLength(5);
    const nodev = body.rows.filter((r) => r.jobId === 'nodev-1');
    expect(nodev).toHaveLength(1);
    expect(nodev[0]).toMatchObject({ outcome: 'no_devices', deviceId: null, actionAt: null });
    const rd2 = body.rows.find((r) => r.deviceId === 'rd-2');
    expect(rd2).toMatchObject({
      user: 'real-job@contoso.com',
      stateBefore: 'managed',
      stateAfter: 'retirePending',
      deviceResult: 'not_retired',
      verificationState: 'unverified',
      verifiedAt: null,
      actionRequestId: `req-${realJobId}`,
    });
    expect(body.rows.find((r) => r.jobId === 'verified-1')?.verifiedAt).toBe(iso(now - 1000));
  });

  it('streams CSV as an attachment with a header, formulas defused and unicode intact', async () => {
    const res = await get('/v1/evidence?format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="evidence-.*\.csv"$/);
    const lines = res.body.split('\r\n');
    expect(lines[0]).toBe(EVIDENCE_COLUMNS.join(','));
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(1 + 5 + 1);
    expect(res.body).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(res.body).not.toMatch(/(^|,)=HYPERLINK/m);
    expect(res.body).toContain('Zoë’s iPhone');
    expect(res.body.charCodeAt(0)).not.toBe(0xfeff);
    const bom = await get('/v1/evidence?format=csv&bom=true');
    expect(bom.body.charCodeAt(0)).toBe(0xfeff);
  });

  it('filters by range: from inclusive, to exclusive, dates or date-times', async () => {
    const res = await get(`/v1/evidence?from=${day0}&to=${day1}`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as JsonExport;
    expect(body.rows.map((r) => r.jobId)).toEqual(['old-1', 'old-2']);
    expect(body.from).toBe(iso(DAY0));
    const exact = await get(
      `/v1/evidence?from=${encodeURIComponent(iso(DAY0 + DAY))}&to=${encodeURIComponent(iso(DAY0 + DAY + 1))}`,
    );
    expect((exact.json() as JsonExport).rows.map((r) => r.jobId)).toEqual(['old-3']);
  });

  it('filters by batch (without a range: the whole 400 days) and by verification state', async () => {
    const batch = (await get('/v1/evidence?batch=batch-a')).json() as JsonExport;
    expect(batch.batch).toBe('batch-a');
    expect(batch.rows.map((r) => r.jobId).sort()).toEqual(['nodev-1', 'verified-1']);
    const old = (await get('/v1/evidence?batch=batch-old')).json() as JsonExport;
    expect(old.rows.map((r) => r.jobId)).toEqual(['old-1']);
    const unverified = (await get('/v1/evidence?state=unverified&format=json')).json() as JsonExport;
    expect(unverified.rows.map((r) => r.deviceId)).toEqual(['rd-1', 'rd-2']);
    const pending = (await get('/v1/evidence?state=pending')).json() as JsonExport;
    expect(pending.rows.map((r) => r.jobId)).toEqual(['pending-1']);
    const none = (await get('/v1/evidence?batch=batch-a&state=unverified')).json() as JsonExport;
    expect(none).toMatchObject({ rows: [], leavers: 0, count: 0 });
    const csv = await get('/v1/evidence?batch=nothing-here&format=csv');
    expect(csv.body).toBe(`${EVIDENCE_COLUMNS.join(',')}\r\n`);
  });

  it('refuses bad queries with 400 and the JSON error shape', async () => {
    const bad = [
      '/v1/evidence?from=yesterday',
      '/v1/evidence?from=2026-13-01',
      '/v1/evidence?to=2026-12-01T10:00:00',
      `/v1/evidence?from=${day1}&to=${day0}`,
      `/v1/evidence?from=${day0}&to=${day0}`,
      '/v1/evidence?from=2020-01-01&to=2021-06-01',
      '/v1/evidence?format=xlsx',
      '/v1/evidence?state=done',
      '/v1/evidence?batch=a:b',
      '/v1/evidence?batch=..%2F..%2Fetc',
      '/v1/evidence?user=x',
      `/v1/evidence?from=${'2'.repeat(60)}`,
    ];
    for (const url of bad) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect((res.json() as { error: { code: string } }).error.code, url).toBe('invalid_request');
    }
  });

  it('exports thousands of leavers across many store pages, each exactly once', async () => {
    const base = now - 2 * DAY;
    const pipeline: Promise<void>[] = [];
    for (let i = 0; i < 1500; i++) {
      const devices = Array.from({ length: i % 4 }, (_, k) => ({
        id: `bulk-${i}-${k}`,
        managementState: 'managed',
      }));
      pipeline.push(
        save(
          record(`bulk-${i}`, {
            batchId: 'bulk',
            inventoriedAt: iso(base + Math.floor(i / 7)),
            devices,
            ...(devices.length === 0 ? { outcome: 'no_devices' as const, action: undefined } : {}),
          }),
        ),
      );
      if (pipeline.length >= 200) await Promise.all(pipeline.splice(0));
    }
    await Promise.all(pipeline);
    const res = await get('/v1/evidence?batch=bulk&format=csv');
    expect(res.statusCode).toBe(200);
    const lines = res.body.split('\r\n').slice(1, -1);
    // 0-3 devices per leaver, a leaver with none still one row: 375 × (1 + 1 + 2 + 3).
    expect(lines).toHaveLength(375 * 7);
    const jobs = new Set(lines.map((l) => l.split(',')[1]));
    expect(jobs.size).toBe(1500);
  });
});

describe('POST /v1/offboardings/{id}/verify', () => {
  const post = (id: string, key?: string) =>
    t.app.inject({ method: 'POST', url: `/v1/offboardings/${id}/verify`, headers: key ? bearer(key) : {} });

  it('is for operators only: viewers and producers get 403, no key 401, and nothing changes', async () => {
    for (const [key, status] of [
      [KEYS.viewer, 403],
      [KEYS.producer, 403],
      [undefined, 401],
    ] as const) {
      const res = await post(realJobId, key);
      expect(res.statusCode).toBe(status);
    }
    const audit = await readAudit(t.ctx, { count: 1000 });
    expect(audit.filter((e) => e.type === 'reverify')).toEqual([]);
    const view = (await get(`/v1/offboardings/${realJobId}`)).json() as {
      evidence: { verification: { state: string } };
    };
    expect(view.evidence.verification.state).toBe('unverified');
  });

  it('re-verifies an unverified job: pending again, a verify job, audited with the key name', async () => {
    const res = await post(realJobId, KEYS.operator);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as {
      jobId: string;
      verifyJobId: string;
      deadline: string;
      previousState: string;
    };
    expect(body).toMatchObject({ jobId: realJobId, previousState: 'unverified' });
    expect(Date.parse(body.deadline)).toBeGreaterThan(Date.now());
    const { Queue } = await import('bullmq');
    const verify = new Queue(VERIFY_QUEUE, { connection: t.ctx.queueConnection, prefix: t.ctx.prefix });
    try {
      expect(await verify.getJob(body.verifyJobId)).toBeTruthy();
    } finally {
      await verify.close();
    }
    const audit = await readAudit(t.ctx, { count: 1000 });
    const entry = audit.find((e) => e.type === 'reverify' && e.jobId === realJobId);
    expect(entry?.actor).toBe(KEY_NAMES.operator);
    const view = (await get(`/v1/offboardings/${realJobId}`)).json() as {
      evidence: { verification: { state: string } };
    };
    expect(view.evidence.verification.state).toBe('pending');
  });

  it('answers 404 for an unknown job, 409 for a job without evidence or with nothing to verify', async () => {
    const unknown = await post('no-such-job', KEYS.operator);
    expect(unknown.statusCode).toBe(404);
    const noEvidence = (
      await enqueue(t.ctx, { user: 'no-evidence@contoso.com' }, { requestedBy: 'test', source: 'api' })
    ).id;
    const r409 = await post(noEvidence, KEYS.operator);
    expect(r409.statusCode).toBe(409);
    expect((r409.json() as { error: { code: string } }).error.code).toBe('no_evidence');
    const nothing = await post('nodev-1', KEYS.operator);
    expect(nothing.statusCode).toBe(409);
    expect((nothing.json() as { error: { code: string } }).error.code).toBe('nothing_to_verify');
    expect((await post('bad:id', KEYS.operator)).statusCode).toBe(400);
  });
});

describe('evidence on the job and on the status page', () => {
  it('GET /v1/offboardings/{id} shows each device before with what became of it after', async () => {
    const fresh = (
      await enqueue(t.ctx, { user: 'shown@contoso.com' }, { requestedBy: KEY_NAMES.producer, source: 'api' })
    ).id;
    const before = (await get(`/v1/offboardings/${fresh}`, KEYS.producer)).json() as { evidence: unknown };
    expect(before.evidence).toBeNull();
    await save(
      record(fresh, {
        user: 'shown@contoso.com',
        verification: {
          state: 'verified',
          checks: 1,
          endedAt: iso(now),
          devices: [{ deviceId: `${fresh}-d1`, result: 'retired', stateAfter: null, checkedAt: iso(now) }],
        },
      }),
    );
    const res = await get(`/v1/offboardings/${fresh}`, KEYS.producer);
    expect(res.statusCode).toBe(200);
    const e = (res.json() as { evidence: Record<string, unknown> }).evidence;
    expect(e).toMatchObject({
      outcome: 'retired',
      action: { requestId: `req-${fresh}`, status: 204 },
      devices: [
        {
          id: `${fresh}-d1`,
          deviceName: 'LAPTOP-1',
          serialNumber: 'SN-1',
          managementState: 'managed',
          // Graph v1.0's name, and the name this view had before issue 18 (deprecated, same value).
          managedDeviceOwnerType: 'company',
          ownerType: 'company',
          after: { result: 'retired', stateAfter: null, checkedAt: iso(now) },
        },
      ],
      verification: { state: 'verified', checks: 1, endedAt: iso(now) },
    });
  });

  it('the status page counts leavers per verification state and lists the latest unverified', async () => {
    await save(
      record('unverified-2', {
        user: 'late<b>@contoso.com',
        verification: {
          state: 'unverified',
          checks: 3,
          endedAt: iso(now),
          devices: [
            {
              deviceId: 'unverified-2-d1',
              result: 'failed',
              stateAfter: 'retireFailed',
              checkedAt: iso(now),
            },
          ],
        },
      }),
    );
    const res = await t.app.inject({
      url: '/',
      headers: { authorization: `Basic ${Buffer.from(`x:${KEYS.viewer}`).toString('base64')}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(
      /Evidence: <span class="ok">\d+ verified<\/span> · <span class="bad">1 unverified<\/span>/,
    );
    expect(res.body).toContain('Latest unverified leavers (1)');
    expect(res.body).toContain('unverified-2-d1 failed (retireFailed)');
    expect(res.body).toContain('late&#60;b&#62;@contoso.com');
    expect(res.body).not.toContain('late<b>');
  });

  it('the console lookup shows devices before and after; operators (only) can verify again, audited', async () => {
    const id = (
      await enqueue(t.ctx, { user: 'console-shown@contoso.com' }, { requestedBy: 'test', source: 'api' })
    ).id;
    await save(
      record(id, {
        user: 'console-shown@contoso.com',
        devices: [
          { id: 'cd-1', deviceName: '<img src=x>', serialNumber: 'SER-9', managementState: 'managed' },
        ],
        verification: {
          state: 'unverified',
          checks: 2,
          endedAt: iso(now),
          devices: [{ deviceId: 'cd-1', result: 'failed', stateAfter: 'retireFailed', checkedAt: iso(now) }],
        },
      }),
    );
    const viewer = new ConsoleClient(t.app);
    await viewer.signIn(KEYS.viewer);
    const page = await viewer.get(`/console/lookup?q=${id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Evidence: devices before and after');
    expect(page.body).toContain('SER-9');
    expect(page.body).toContain('retireFailed');
    expect(page.body).toMatch(/<td class="bad">failed<\/td>/);
    expect(page.body).not.toContain('<img src=x>');
    expect(page.body).not.toContain('Verify the devices again');
    expect((await viewer.act(`/console/jobs/${id}/verify`)).statusCode).toBe(403);

    const operator = new ConsoleClient(t.app);
    await operator.signIn(KEYS.operator);
    const opPage = await operator.get(`/console/lookup?q=${id}`);
    expect(opPage.body).toContain(`action="/console/jobs/${id}/verify"`);
    const res = await operator.act(`/console/jobs/${id}/verify`);
    expect(res.statusCode).toBe(303);
    const audit = await readAudit(t.ctx, { count: 1000 });
    expect(audit.filter((e) => e.type === 'reverify' && e.jobId === id).map((e) => e.actor)).toEqual([
      KEY_NAMES.operator,
    ]);
    const after = await operator.get(`/console/lookup?q=${id}`);
    expect(after.body).toContain('Verifying the devices of job');
    expect(after.body).not.toContain('Verify the devices again');
  });
});

describe('end to end: a real worker, the simulator, the API export', { timeout: 120_000 }, () => {
  it('exports what the worker inventoried, sent and verified, per device, filtered by batch', async () => {
    const redis = await startRedis();
    const sim = await startTestSimulator({ retireDelayMs: 300 });
    const env = { EVIDENCE: 'on', VERIFY_AFTER: '1s', VERIFY_WINDOW: '4s' };
    const worker = await startTestWorker(workerConfig(redis, sim, redis.prefix, env));
    const api = await liveApi(redis, env);
    try {
      sim.control({
        devices: { 'e2e-two@contoso.com': 2, 'e2e-none@contoso.com': 0, 'nocheckin-e2e@contoso.com': 1 },
      });
      const results = await enqueueMany(
        worker.ctx,
        [
          { user: 'e2e-two@contoso.com' },
          { user: 'e2e-none@contoso.com' },
          { user: 'nocheckin-e2e@contoso.com' },
        ],
        { requestedBy: 'e2e', source: 'batch', batchId: 'e2e-batch' },
      );
      const ids = results.map((r) => (r.status === 'invalid' ? '' : r.id));
      const exportJson = async () => {
        const res = await fetch(`${api.url}/v1/evidence?batch=e2e-batch`, { headers: bearer(KEYS.viewer) });
        return (await res.json()) as JsonExport;
      };
      // Every leaver inventoried and no verification still reading.
      const done = await pollUntil(
        exportJson,
        (b) => b.leavers === 3 && b.rows.every((r) => r.verificationState !== 'pending'),
        60_000,
      );
      expect(done.count).toBe(2 + 1 + 1);
      const byUser = (u: string) => done.rows.filter((r) => r.user === u);
      const two = byUser('e2e-two@contoso.com');
      expect(two.map((r) => [r.stateBefore, r.deviceResult, r.verificationState])).toEqual([
        ['managed', 'retired', 'verified'],
        ['managed', 'retired', 'verified'],
      ]);
      const job = await worker.ctx.retire.getJob(ids[0] as string);
      expect(two[0]?.actionRequestId).toBe(job?.returnvalue?.requestId);
      expect(two[0]?.verifiedAt).not.toBeNull();
      expect(byUser('e2e-none@contoso.com')).toMatchObject([
        { outcome: 'no_devices', deviceId: null, actionAt: null, verificationState: 'not_applicable' },
      ]);
      expect(byUser('nocheckin-e2e@contoso.com')).toMatchObject([
        {
          deviceResult: 'not_retired',
          stateAfter: 'retirePending',
          verificationState: 'unverified',
          verifiedAt: null,
        },
      ]);
      const csv = await fetch(`${api.url}/v1/evidence?batch=e2e-batch&format=csv&state=unverified`, {
        headers: bearer(KEYS.viewer),
      });
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      const lines = (await csv.text()).split('\r\n').slice(1, -1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('nocheckin-e2e@contoso.com');
      const view = await fetch(`${api.url}/v1/offboardings/${ids[0]}`, { headers: bearer(KEYS.viewer) });
      const e = ((await view.json()) as { evidence: { devices: { after: { result: string } | null }[] } })
        .evidence;
      expect(e.devices.map((d) => d.after?.result)).toEqual(['retired', 'retired']);
    } finally {
      await api.close();
      await worker.close();
      await sim.close();
      await redis.stop();
    }
  });
});
