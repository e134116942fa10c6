// The mass-change guard per tenant (TENANTS_FILE `guard`): a tenant's threshold and two-person rule
// apply to its own submissions only, and each tenant counts its own rolling window, so one tenant's
// accepted leavers never hold another tenant's (and the same key may work for several tenants).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitBulk } from '../../src/front-door/front-door.js';
import { bearer, KEY_NAMES, KEYS } from '../api/helpers.js';
import { TENANTS, type TenantApi, tenantApp } from './helpers.js';

let t: TenantApi;
beforeAll(async () => {
  const [contoso, fabrikam, northwind] = TENANTS as [
    (typeof TENANTS)[0],
    (typeof TENANTS)[0],
    (typeof TENANTS)[0],
  ];
  t = await tenantApp([{ ...contoso, guard: { threshold: 2, twoPerson: true } }, fabrikam, northwind], {
    GUARD_THRESHOLD: '3',
    GUARD_TWO_PERSON: 'false',
  });
});
afterAll(async () => t.close());

const batch = (tenant: string, users: string[], key: string = KEYS.producer) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/offboardings/batch',
    headers: bearer(key),
    payload: { items: users.map((user) => ({ user, tenant })) },
  });
const users = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i}@contoso.com`);

describe('guard per tenant', () => {
  it("applies a tenant's own threshold; the others keep GUARD_THRESHOLD", async () => {
    const small = await batch('contoso', users('c-thr', 3));
    expect(small.json()).toMatchObject({ held: true, batch: { state: 'held', count: 3, tenant: 'contoso' } });
    const others = await batch('fabrikam', users('f-thr', 3));
    expect(others.json()).toMatchObject({ held: false });
  });

  it("counts each tenant's window apart: one tenant's accepted leavers never hold another's", async () => {
    // fabrikam has 3 accepted already (the test above): at its threshold of 3, one more is held.
    const more = await batch('fabrikam', users('f-win', 1));
    expect(more.json()).toMatchObject({ held: true, batch: { tenant: 'fabrikam' } });
    // northwind's window is empty: the same key's 3 there are accepted.
    const north = await batch('northwind', users('n-win', 3));
    expect(north.json()).toMatchObject({ held: false });
    expect(north.json().summary).toMatchObject({ accepted: 3 });
  });

  it("applies a tenant's two-person rule to its batches only", async () => {
    // Submitted under the operator's own name (as `offboard import --as` does), then approved with it.
    const submit = (tenant: string, tag: string) =>
      submitBulk(
        t.ctx,
        users(tag, 5).map((user) => ({ user, tenant })),
        { requestedBy: KEY_NAMES.operator, source: 'import', tenant },
      );
    const approve = (id: string) =>
      t.app.inject({
        method: 'POST',
        url: `/v1/batches/${id}/approve`,
        headers: { ...bearer(KEYS.operator), 'if-match': '"1"' },
      });
    const contoso = await submit('contoso', 'c-two');
    expect(contoso.held).toBe(true);
    const self = await approve(contoso.held ? contoso.batch.id : '');
    expect(self.statusCode).toBe(403);
    expect(self.json().error.code).toBe('two_person_rule');

    // fabrikam follows GUARD_TWO_PERSON=false: the submitter may approve its own batch.
    const fabrikam = await submit('fabrikam', 'f-two');
    expect(fabrikam.held).toBe(true);
    const own = await approve(fabrikam.held ? fabrikam.batch.id : '');
    expect(own.statusCode).toBe(200);
  });
});
