// Scoped API keys (`name:role:sha256:contoso`) see and act on their tenants only, on every route
// (issue 22). Each test tries to get around the scope: another tenant's job, dead letter, batch or
// evidence by id gives 404 exactly like a missing one; lists leave them out; a route that cannot
// filter refuses scoped keys (deny by default), checked over every operation of the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveEvidence } from '../../src/evidence/store.js';
import { enqueue } from '../../src/intake/enqueue.js';
import type { EvidenceRecord, RetireJobData } from '../../src/interfaces.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';
import { bearer, KEYS } from '../api/helpers.js';
import { SCOPED, type TenantApi, tenantApp } from './helpers.js';

let t: TenantApi;
const ids = {} as Record<'contosoJob' | 'fabrikamJob' | 'contosoBatch' | 'fabrikamBatch', string>;

function data(user: string, tenant: string): RetireJobData {
  return {
    user,
    dryRun: false,
    correlationId: `c-${user}`,
    requestedBy: 'hr-system',
    requestedAt: new Date().toISOString(),
    source: 'api',
    tenant,
  };
}

function evidence(jobId: string, tenant: string): EvidenceRecord {
  const at = new Date(Date.now() - 3_600_000).toISOString();
  return {
    jobId,
    user: `${jobId}@contoso.com`,
    tenant,
    requestedBy: 'hr-system',
    correlationId: `c-${jobId}`,
    source: 'api',
    inventoriedAt: at,
    inventoryRequestIds: ['inv-1'],
    devices: [{ id: `${jobId}-d1`, deviceName: 'LAPTOP-1', managementState: 'managed' }],
    action: { at, requestId: `req-${jobId}`, status: 204 },
    outcome: 'retired',
    verification: { state: 'pending', checks: 0, devices: [] },
  };
}

beforeAll(async () => {
  t = await tenantApp(undefined, { GUARD_THRESHOLD: '2' });
  const meta = { requestedBy: 'hr-system', source: 'api' as const };
  ids.contosoJob = (await enqueue(t.ctx, { user: 'same@contoso.com', tenant: 'contoso' }, meta)).id;
  ids.fabrikamJob = (await enqueue(t.ctx, { user: 'same@contoso.com', tenant: 'fabrikam' }, meta)).id;
  for (const tenant of ['contoso', 'fabrikam']) {
    await moveToDeadLetter(
      t.ctx,
      { id: `dead-${tenant}`, data: data(`dead-${tenant}@contoso.com`, tenant) },
      { reason: 'not_found', lastStatus: 404, attempts: 1, throttledWaits: 0 },
    );
    await saveEvidence(t.ctx.redis, t.ctx.prefix, evidence(`ev-${tenant}`, tenant), 86_400_000);
    const held = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings/batch',
      headers: bearer(KEYS.producer),
      payload: { tenant, items: [1, 2, 3].map((n) => ({ user: `held-${tenant}-${n}@contoso.com` })) },
    });
    expect(held.json().held).toBe(true);
    ids[`${tenant}Batch` as 'contosoBatch'] = held.json().batch.id;
  }
});
afterAll(async () => t.close());

const as = (key: string, method: 'GET' | 'POST' | 'DELETE', url: string, extra: object = {}) =>
  t.app.inject({ method, url, headers: { ...bearer(key), ...extra } });

describe('a tenant-scoped key', () => {
  it('reads its own tenant’s job and gets 404 for another tenant’s, as for a missing one', async () => {
    expect((await as(SCOPED.viewContoso, 'GET', `/v1/offboardings/${ids.contosoJob}`)).statusCode).toBe(200);
    const other = await as(SCOPED.viewContoso, 'GET', `/v1/offboardings/${ids.fabrikamJob}`);
    const missing = await as(SCOPED.viewContoso, 'GET', '/v1/offboardings/no-such-job');
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe(missing.json().error.code);
    expect(other.body).not.toContain('fabrikam');
    // The unscoped viewer sees both.
    expect((await as(KEYS.viewer, 'GET', `/v1/offboardings/${ids.fabrikamJob}`)).statusCode).toBe(200);
  });

  it('lists only its tenant’s jobs of a leaver known in two tenants', async () => {
    const scoped = await as(SCOPED.viewContoso, 'GET', '/v1/offboardings?user=same@contoso.com');
    expect(scoped.json().items.map((i: { id: string }) => i.id)).toEqual([ids.contosoJob]);
    const all = await as(KEYS.viewer, 'GET', '/v1/offboardings?user=same@contoso.com');
    expect(all.json().items).toHaveLength(2);
  });

  it('cannot cancel another tenant’s job (404, the job stays)', async () => {
    const res = await as(SCOPED.opContoso, 'DELETE', `/v1/offboardings/${ids.fabrikamJob}`);
    expect(res.statusCode).toBe(404);
    expect(await (await t.ctx.retire.getJob(ids.fabrikamJob))?.getState()).toBe('waiting');
    const verify = await as(SCOPED.opContoso, 'POST', `/v1/offboardings/${ids.fabrikamJob}/verify`);
    expect(verify.statusCode).toBe(404);
  });

  it('sees, redrives and discards only its tenant’s dead letters', async () => {
    const list = await as(SCOPED.viewContoso, 'GET', '/v1/dead-letters');
    expect(list.json().items.map((d: { original: { tenant: string } }) => d.original.tenant)).toEqual([
      'contoso',
    ]);
    expect(list.json().total).toBe(1);
    expect((await as(KEYS.viewer, 'GET', '/v1/dead-letters')).json().total).toBe(2);
    expect((await as(SCOPED.viewContoso, 'GET', '/v1/dead-letters/dl-dead-fabrikam')).statusCode).toBe(404);
    expect((await as(SCOPED.viewContoso, 'GET', '/v1/dead-letters/dl-dead-contoso')).statusCode).toBe(200);
    const redrive = await as(SCOPED.opContoso, 'POST', '/v1/dead-letters/dl-dead-fabrikam/redrive');
    expect(redrive.statusCode).toBe(404);
    const discard = await as(SCOPED.opContoso, 'DELETE', '/v1/dead-letters/dl-dead-fabrikam');
    expect(discard.statusCode).toBe(404);
    expect(await t.ctx.deadLetter.getJob('dl-dead-fabrikam')).toBeDefined();
  });

  it('sees and decides only its tenant’s held batches', async () => {
    const list = await as(SCOPED.viewContoso, 'GET', '/v1/batches');
    expect(list.json().items.map((b: { id: string }) => b.id)).toEqual([ids.contosoBatch]);
    for (const url of [`/v1/batches/${ids.fabrikamBatch}`, `/v1/batches/${ids.fabrikamBatch}/items`]) {
      expect((await as(SCOPED.viewContoso, 'GET', url)).statusCode).toBe(404);
    }
    const approve = await as(SCOPED.opContoso, 'POST', `/v1/batches/${ids.fabrikamBatch}/approve`, {
      'if-match': '"1"',
    });
    expect(approve.statusCode).toBe(404);
    const reject = await t.app.inject({
      method: 'POST',
      url: `/v1/batches/${ids.fabrikamBatch}/reject`,
      headers: { ...bearer(SCOPED.opContoso), 'if-match': '"1"' },
      payload: { reason: 'not mine' },
    });
    expect(reject.statusCode).toBe(404);
    const own = await as(SCOPED.viewContoso, 'GET', `/v1/batches/${ids.contosoBatch}`);
    expect(own.json()).toMatchObject({ state: 'held', tenant: 'contoso' });
    expect((await as(KEYS.viewer, 'GET', `/v1/batches/${ids.fabrikamBatch}`)).json().state).toBe('held');
  });

  it('exports only its tenant’s evidence', async () => {
    const scoped = await as(SCOPED.viewContoso, 'GET', '/v1/evidence');
    expect(scoped.statusCode).toBe(200);
    const rows = scoped.json().rows as { jobId: string }[];
    expect(rows.map((r) => r.jobId)).toEqual(['ev-contoso']);
    const csv = await as(SCOPED.viewContoso, 'GET', '/v1/evidence?format=csv');
    expect(csv.body).toContain('ev-contoso');
    expect(csv.body).not.toContain('ev-fabrikam');
    const all = await as(KEYS.viewer, 'GET', '/v1/evidence');
    expect((all.json().rows as unknown[]).length).toBe(2);
  });
});

/** The operations that filter by tenant; every other one must refuse a scoped key. */
const TENANT_AWARE = new Set([
  'POST /v1/offboardings',
  'POST /v1/offboardings/batch',
  'GET /v1/offboardings',
  'GET /v1/offboardings/{id}',
  'DELETE /v1/offboardings/{id}',
  'POST /v1/offboardings/{id}/verify',
  'GET /v1/dead-letters',
  'GET /v1/dead-letters/{id}',
  'POST /v1/dead-letters/{id}/redrive',
  'DELETE /v1/dead-letters/{id}',
  'GET /v1/batches',
  'GET /v1/batches/{id}',
  'GET /v1/batches/{id}/items',
  'POST /v1/batches/{id}/approve',
  'POST /v1/batches/{id}/reject',
  'GET /v1/evidence',
  // tcore's tenant routes: a scoped key sees and resumes its own tenants only.
  'GET /v1/tenants',
  // Only the per-tenant series of its own tenants (console-tenants.test.ts).
  'GET /metrics',
  'POST /v1/tenants/{name}/resume',
]);

describe('deny by default', () => {
  it('every documented operation either filters by tenant or refuses a scoped key (403)', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const failures: string[] = [];
    let refused = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const op = `${method.toUpperCase()} ${path}`;
        if (TENANT_AWARE.has(op)) continue;
        const url = path.replace('{id}', 'x1').replace('{name}', 'contoso');
        const res = await t.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: bearer(SCOPED.opContoso),
          ...(method === 'get' ? {} : { payload: {} }),
        });
        const open = (ops[method]?.security ?? [1]).length === 0;
        if (open) continue;
        if (res.statusCode !== 403) failures.push(`${op}: ${res.statusCode}`);
        else refused++;
      }
    }
    expect(failures).toEqual([]);
    expect(refused).toBeGreaterThan(3);
  });

  it('browser pages that cannot filter (the dashboard, the status page) refuse a scoped key', async () => {
    const basic = `Basic ${Buffer.from(`x:${SCOPED.opContoso}`).toString('base64')}`;
    for (const url of ['/dashboard/operator/', '/dashboard/operator/api/queues', '/dashboard/viewer/', '/']) {
      const res = await t.app.inject({ url, headers: { authorization: basic } });
      expect(res.statusCode, url).toBe(403);
    }
  });

  it('an unscoped key is unaffected by the tenant checks', async () => {
    expect((await as(KEYS.operator, 'GET', '/v1/queues')).statusCode).toBe(200);
    expect((await as(KEYS.viewer, 'GET', '/v1/batches')).json().items).toHaveLength(2);
  });
});
