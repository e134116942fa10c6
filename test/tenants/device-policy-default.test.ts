// A tenant's `devicePolicy` in TENANTS_FILE is the profile its leavers get when a request names none
// (before the policy's own default); a request naming a profile keeps it, and a producer key whose
// API_KEYS entry lists no profiles still gets the tenant's default (an administrator's choice).
import { describe, expect, it } from 'vitest';
import { validateFor } from '../../src/front-door/device-policy.js';
import { testConfig } from '../helpers/config.js';
import { TEST_POLICY } from '../helpers/device-policy.js';

const config = {
  ...testConfig({}),
  devicePolicy: TEST_POLICY,
  tenants: [
    { name: 'contoso', id: '11111111-2222-3333-4444-555555555555', devicePolicy: 'dispose' },
    { name: 'fabrikam', id: '22222222-2222-3333-4444-555555555555' },
  ],
};
const producer = { role: 'producer' as const, devicePolicies: [] };

describe("a tenant's default device policy profile", () => {
  it('applies when nothing is named, per tenant, for any key', () => {
    const v = validateFor({ config }, { devicePolicyScope: producer });
    expect(v({ user: 'a@contoso.com', tenant: 'contoso' }).devicePolicy).toBe('dispose');
    expect(v({ user: 'a@contoso.com', tenant: 'fabrikam' }).devicePolicy).toBe('standard');
    // The submission's tenant (a scoped key's only one) when the item names none.
    const scoped = validateFor({ config }, { devicePolicyScope: producer, tenant: 'contoso' });
    expect(scoped({ user: 'b@contoso.com' }).devicePolicy).toBe('dispose');
  });

  it('gives way to a profile the request or the command names', () => {
    const v = validateFor({ config }, {});
    expect(v({ user: 'a@contoso.com', tenant: 'contoso', devicePolicy: 'standard' }).devicePolicy).toBe(
      'standard',
    );
    const command = validateFor({ config }, { devicePolicy: 'standard' });
    expect(command({ user: 'a@contoso.com', tenant: 'contoso' }).devicePolicy).toBe('standard');
  });
});
