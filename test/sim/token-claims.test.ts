// The simulator's access tokens carry the permissions its switch grants: `roles` for an app (none
// without admin consent), so a reader of the token can name the one a test denied.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readAccessTokenClaims } from '../../src/entra/claims.js';
import { PERMISSION_NAMES, PERMISSIONS } from '../../src/sim/tokens.js';
import { fetchAppToken, postRetire, type Simulator, startTestSimulator } from '../helpers/sim.js';

let sim: Simulator;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => sim?.close());
beforeEach(() => {
  sim.control({ permissions: { grant: [...PERMISSION_NAMES] }, token: { consentMissing: false } });
});

describe('simulator tokens', () => {
  it('list every granted permission in roles, without the denied ones', async () => {
    expect(readAccessTokenClaims(await fetchAppToken(sim)).roles).toEqual([...PERMISSION_NAMES]);
    sim.control({ permissions: { deny: [PERMISSIONS.readDevices, PERMISSIONS.readLifecycleInfo] } });
    const roles = readAccessTokenClaims(await fetchAppToken(sim)).roles ?? [];
    expect(roles).not.toContain(PERMISSIONS.readDevices);
    expect(roles).not.toContain(PERMISSIONS.readLifecycleInfo);
    expect(roles).toContain(PERMISSIONS.retire);
  });

  it('carry no roles without admin consent; a denied retire permission is refused with 403', async () => {
    sim.control({ token: { consentMissing: true } });
    expect(readAccessTokenClaims(await fetchAppToken(sim)).roles).toBeUndefined();
    sim.control({ token: { consentMissing: false } });
    const token = await fetchAppToken(sim);
    sim.control({ permissions: { deny: [PERMISSIONS.retire] } });
    expect((await postRetire(sim, 'denied@contoso.com', token)).status).toBe(403);
    sim.control({ permissions: { grant: [PERMISSIONS.retire] } });
    expect((await postRetire(sim, 'denied@contoso.com', token)).status).toBe(204);
    expect(sim.stats({ log: false }).requests.byMethod.POST).toBe(2);
  });
});
