import { InteractionRequiredAuthError, PublicClientApplication } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeAllDevicesFromManagement } from '../../src/graph/client.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';

const SCOPES = ['https://graph.microsoft.com/DeviceManagementManagedDevices.PrivilegedOperations.All'];
let sim: TestSimulator;

beforeAll(async () => {
  sim = await startTestSimulator({
    deviceCodeIntervalSec: 0.05,
    deviceCodeAutoApproveMs: 100,
    deviceCodeUser: 'ops@contoso.com',
  });
});
afterAll(async () => {
  await sim?.close();
});

function pca(): PublicClientApplication {
  const { clientSecret: _unused, ...auth } = sim.msalAuth;
  return new PublicClientApplication({ auth });
}

describe('Entra fake device-code flow (real MSAL PublicClientApplication)', () => {
  it('signs in with a device code, then refreshes silently with the refresh token', async () => {
    sim.reset();
    const app = pca();
    const messages: string[] = [];
    const result = await app.acquireTokenByDeviceCode({
      scopes: SCOPES,
      deviceCodeCallback: (r) => {
        messages.push(r.message);
      },
    });
    expect(messages[0]).toMatch(/enter the code [A-Z0-9]{9} to authenticate/);
    expect(result?.account?.username).toBe('ops@contoso.com');
    expect(result?.account?.tenantId).toBe(sim.tenantId);
    expect(result?.account?.homeAccountId).toMatch(new RegExp(`\\.${sim.tenantId}$`));
    const ok = await removeAllDevicesFromManagement({
      baseUrl: sim.graphBaseUrl,
      user: 'ann@contoso.com',
      token: result?.accessToken ?? '',
      timeoutMs: 5000,
    });
    expect(ok.status).toBe(204);

    const account = result?.account;
    if (!account) throw new Error('no account');
    const cached = await app.acquireTokenSilent({ account, scopes: SCOPES });
    expect(cached.accessToken).toBe(result?.accessToken);
    const refreshed = await app.acquireTokenSilent({ account, scopes: SCOPES, forceRefresh: true });
    expect(refreshed.accessToken).not.toBe(result?.accessToken);
    const stats = sim.stats().token;
    expect(stats.byGrant.device_authorization).toBe(1);
    expect(stats.byGrant.refresh_token).toBe(1);
    expect(stats.byGrant.device_code).toBeGreaterThanOrEqual(1);
    expect(stats.issued).toBe(2);

    sim.control({ token: { revokeRefreshTokens: true } });
    const err = await app
      .acquireTokenSilent({ account, scopes: SCOPES, forceRefresh: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InteractionRequiredAuthError);
    expect((err as InteractionRequiredAuthError).errorCode).toBe('invalid_grant');
    expect((err as InteractionRequiredAuthError).subError).toBe('bad_token');
  });

  it('waits for explicit approval when auto-approval is off, and reports a declined sign-in', async () => {
    sim.control({ deviceCode: { autoApproveMs: null } });
    try {
      const app = pca();
      let userCode = '';
      const pending = app.acquireTokenByDeviceCode({
        scopes: SCOPES,
        deviceCodeCallback: (r) => {
          userCode = r.userCode;
        },
      });
      await new Promise((r) => setTimeout(r, 300));
      const listed = (await (await fetch(`${sim.controlUrl}/device-codes`)).json()) as {
        pending: { userCode: string }[];
      };
      expect(listed.pending.map((p) => p.userCode)).toContain(userCode);
      sim.control({ deviceCode: { approve: userCode } });
      expect((await pending)?.accessToken).toBeTruthy();

      const declined = app.acquireTokenByDeviceCode({ scopes: SCOPES, deviceCodeCallback: () => undefined });
      await new Promise((r) => setTimeout(r, 200));
      sim.control({ deviceCode: { deny: '*' } });
      await expect(declined).rejects.toThrow(/authorization_declined/);
    } finally {
      sim.control({ deviceCode: { autoApproveMs: 100 } });
    }
  });
});
