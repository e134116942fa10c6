// `tenant` on every API producer (issue 22): validated at the front door, stored on the job, part
// of the per-user deduplication. Names of other tenants never appear in a scoped key's errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingJobIds } from '../../src/intake/pending.js';
import { bearer, KEYS } from '../api/helpers.js';
import { SCOPED, TENANTS, type TenantApi, tenantApp } from './helpers.js';

let t: TenantApi;
beforeAll(async () => {
  t = await tenantApp();
});
afterAll(async () => t.close());

const post = (body: object, key: string = KEYS.producer) =>
  t.app.inject({ method: 'POST', url: '/v1/offboardings', headers: bearer(key), payload: body });

describe('tenant on POST /v1/offboardings', () => {
  it('is required when several tenants are configured, checked, and stored on the job', async () => {
    const missing = await post({ user: 'a1@contoso.com' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details).toEqual({ field: 'tenant' });

    const unknown = await post({ user: 'a1@contoso.com', tenant: 'nope' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toContain('unknown tenant');

    const bad = await post({ user: 'a1@contoso.com', tenant: 'Not A Slug' });
    expect(bad.statusCode).toBe(400);

    const ok = await post({ user: 'a1@contoso.com', tenant: 'fabrikam' });
    expect(ok.statusCode).toBe(202);
    const job = await t.ctx.retire.getJob(ok.json().id);
    expect(job?.data.tenant).toBe('fabrikam');
  });

  it('keeps the same UPN in two tenants as two leavers (deduplication per tenant)', async () => {
    const a = await post({ user: 'same@contoso.com', tenant: 'contoso' });
    const b = await post({ user: 'same@contoso.com', tenant: 'fabrikam' });
    const again = await post({ user: 'same@contoso.com', tenant: 'fabrikam' });
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(a.json().id).not.toBe(b.json().id);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true, id: b.json().id });
    expect((await pendingJobIds(t.ctx, 'same@contoso.com', 'fabrikam')).real).toBe(b.json().id);
    expect((await pendingJobIds(t.ctx, 'same@contoso.com', 'contoso')).real).toBe(a.json().id);
    // The untenanted key is untouched: nothing pending under it.
    expect((await pendingJobIds(t.ctx, 'same@contoso.com')).real).toBeNull();
  });

  it('a scoped key defaults to its only tenant and gets 403 for any other, without learning names', async () => {
    const own = await post({ user: 'p1@contoso.com' }, SCOPED.prodContoso);
    expect(own.statusCode).toBe(202);
    expect((await t.ctx.retire.getJob(own.json().id))?.data.tenant).toBe('contoso');

    for (const tenant of ['fabrikam', 'does-not-exist']) {
      const res = await post({ user: 'p2@contoso.com', tenant }, SCOPED.prodContoso);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('tenant_forbidden');
      for (const other of TENANTS.filter((x) => x.name !== tenant && x.name !== 'contoso')) {
        expect(res.body).not.toContain(other.name);
      }
    }
    // A key of two tenants must name one.
    const two = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings/batch',
      headers: bearer(SCOPED.opTwo),
      payload: { items: [{ user: 'x@contoso.com' }] },
    });
    expect(two.statusCode).toBe(403); // operators cannot submit at all (role first)
  });

  it('batch: a batch-level tenant for every item; items naming another tenant are invalid', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings/batch',
      headers: bearer(KEYS.producer),
      payload: {
        tenant: 'northwind',
        items: [
          { user: 'b1@contoso.com' },
          { user: 'b2@contoso.com', tenant: 'contoso' },
          { user: 'b3@contoso.com', tenant: 'northwind' },
        ],
      },
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body.summary).toMatchObject({ accepted: 2, invalid: 1 });
    expect(body.results[1]).toMatchObject({ status: 'invalid' });
    expect(body.results[1].error).toContain('one tenant');
    for (const i of [0, 2]) {
      expect((await t.ctx.retire.getJob(body.results[i].id))?.data.tenant).toBe('northwind');
    }
    // Out of scope for the whole batch: 403 before anything is stored.
    const scoped = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings/batch',
      headers: bearer(SCOPED.prodContoso),
      payload: { tenant: 'fabrikam', items: [{ user: 'b4@contoso.com' }] },
    });
    expect(scoped.statusCode).toBe(403);
    expect(scoped.body).not.toContain('northwind');
  });

  it('batch items without any tenant are refused one by one when several are configured', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings/batch',
      headers: bearer(KEYS.producer),
      payload: { items: [{ user: 'c1@contoso.com' }, { user: 'c2@contoso.com', tenant: 'contoso' }] },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().results[0]).toMatchObject({ status: 'invalid' });
    expect(res.json().results[0].error).toContain('tenant is required');
    expect(res.json().results[1]).toMatchObject({ status: 'accepted' });
  });

  it('a held batch records its tenant', async () => {
    const held = await tenantApp(TENANTS, { GUARD_THRESHOLD: '2' });
    try {
      const res = await held.app.inject({
        method: 'POST',
        url: '/v1/offboardings/batch',
        headers: bearer(KEYS.producer),
        payload: { tenant: 'fabrikam', items: [1, 2, 3].map((n) => ({ user: `h${n}@contoso.com` })) },
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ held: true, batch: { tenant: 'fabrikam', count: 3 } });
      const id = res.json().batch.id as string;
      const approved = await held.app.inject({
        method: 'POST',
        url: `/v1/batches/${id}/approve`,
        headers: { ...bearer(KEYS.operator), 'if-match': '"1"' },
      });
      expect(approved.statusCode).toBe(200);
      // Waiting, or delayed for the tenant's turn (its pace spreads new jobs at enqueue).
      const jobs = await held.ctx.retire.getJobs(['waiting', 'delayed'], 0, 10);
      expect(jobs.map((j) => j.data.tenant)).toEqual(['fabrikam', 'fabrikam', 'fabrikam']);
    } finally {
      await held.close();
    }
  });
});

describe('single tenant and no tenants file', () => {
  it('one tenant configured: a missing tenant is that one', async () => {
    const one = await tenantApp([TENANTS[0] as (typeof TENANTS)[number]]);
    try {
      const res = await one.app.inject({
        method: 'POST',
        url: '/v1/offboardings',
        headers: bearer(KEYS.producer),
        payload: { user: 'solo@contoso.com' },
      });
      expect(res.statusCode).toBe(202);
      expect((await one.ctx.retire.getJob(res.json().id))?.data.tenant).toBe('contoso');
    } finally {
      await one.close();
    }
  });

  it('no tenants file: naming a tenant is a 400 and jobs carry none (deduplication key unchanged)', async () => {
    const none = await tenantApp(null);
    try {
      const named = await none.app.inject({
        method: 'POST',
        url: '/v1/offboardings',
        headers: bearer(KEYS.producer),
        payload: { user: 'plain@contoso.com', tenant: 'contoso' },
      });
      expect(named.statusCode).toBe(400);
      expect(named.json().error.details).toEqual({ field: 'tenant' });
      const res = await none.app.inject({
        method: 'POST',
        url: '/v1/offboardings',
        headers: bearer(KEYS.producer),
        payload: { user: 'plain@contoso.com' },
      });
      expect(res.statusCode).toBe(202);
      const job = await none.ctx.retire.getJob(res.json().id);
      expect(job?.data).not.toHaveProperty('tenant');
      expect(await none.ctx.retire.getDeduplicationJobId('plain@contoso.com')).toBe(res.json().id);
    } finally {
      await none.close();
    }
  });
});
