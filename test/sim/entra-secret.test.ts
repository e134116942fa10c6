import { ConfidentialClientApplication, ServerError } from '@azure/msal-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { removeAllDevicesFromManagement } from '../../src/graph/client.js';
import { GraphForbiddenError, GraphUnauthorizedError } from '../../src/graph/errors.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';

const SCOPE = ['https://graph.microsoft.com/.default'];
let sim: TestSimulator;
let originalSecret: string;

beforeAll(async () => {
  sim = await startTestSimulator();
  originalSecret = sim.clientSecret;
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.control({
    token: { clientSecret: originalSecret, outage: null, secretExpired: false, consentMissing: false },
  });
  sim.reset();
});

function app(secret = sim.clientSecret, clientId = sim.clientId): ConfidentialClientApplication {
  return new ConfidentialClientApplication({ auth: { ...sim.msalAuth, clientId, clientSecret: secret } });
}

async function token(cca = app()): Promise<string> {
  const result = await cca.acquireTokenByClientCredential({ scopes: SCOPE });
  if (!result) throw new Error('no token');
  return result.accessToken;
}

function retire(accessToken: string, user = 'ann@contoso.com') {
  return removeAllDevicesFromManagement({
    baseUrl: sim.graphBaseUrl,
    user,
    token: accessToken,
    timeoutMs: 5000,
  });
}

async function serverError(promise: Promise<unknown>): Promise<ServerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServerError);
  return err as ServerError;
}

describe('Entra fake with a client secret (real MSAL, in a forked vitest worker)', () => {
  it('the worker inherited NODE_EXTRA_CA_CERTS from global setup', () => {
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe(sim.caFile);
  });

  it('issues a token MSAL caches, and Graph accepts it', async () => {
    const cca = app();
    const first = await cca.acquireTokenByClientCredential({ scopes: SCOPE });
    const second = await cca.acquireTokenByClientCredential({ scopes: SCOPE });
    expect(first?.accessToken).toBeTruthy();
    expect(second?.accessToken).toBe(first?.accessToken);
    expect(first?.tokenType).toBe('Bearer');
    expect(sim.stats().token).toMatchObject({
      requests: 1,
      issued: 1,
      failures: 0,
      byGrant: { client_credentials: 1 },
    });
    expect((await retire(first?.accessToken ?? '')).status).toBe(204);
  });

  it('rejects a wrong secret with invalid_client AADSTS7000215', async () => {
    const err = await serverError(app('wrong-secret').acquireTokenByClientCredential({ scopes: SCOPE }));
    expect(err.errorCode).toBe('invalid_client');
    expect(String(err.errorNo)).toBe('7000215');
    expect(err.status).toBe(401);
    expect(err.errorMessage).toMatch(/AADSTS7000215: Invalid client secret provided/);
    expect(sim.stats().token.failures).toBe(1);
  });

  it('rotating the secret makes the old one fail and the new one work', async () => {
    sim.control({ token: { clientSecret: 'rotated-secret' } });
    expect(sim.clientSecret).toBe('rotated-secret');
    const err = await serverError(app(originalSecret).acquireTokenByClientCredential({ scopes: SCOPE }));
    expect(err.errorCode).toBe('invalid_client');
    expect(await token(app('rotated-secret'))).toBeTruthy();
  });

  it('reports an expired secret with AADSTS7000222', async () => {
    sim.control({ token: { secretExpired: true } });
    const err = await serverError(app().acquireTokenByClientCredential({ scopes: SCOPE }));
    expect(err.errorCode).toBe('invalid_client');
    expect(String(err.errorNo)).toBe('7000222');
  });

  it('rejects an unknown client and a scope without /.default', async () => {
    const unknown = await serverError(
      app(sim.clientSecret, '00000000-0000-4000-8000-000000000000').acquireTokenByClientCredential({
        scopes: SCOPE,
      }),
    );
    expect(unknown.errorCode).toBe('unauthorized_client');
    expect(String(unknown.errorNo)).toBe('700016');
    const scope = await serverError(
      app().acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/User.Read'] }),
    );
    expect(scope.errorCode).toBe('invalid_scope');
  });

  it('answers the injected token outage status, then recovers', async () => {
    sim.control({ token: { outage: 503 } });
    const err = await serverError(app().acquireTokenByClientCredential({ scopes: SCOPE }));
    expect(err.status).toBe(503);
    expect(err.errorCode).toBe('temporarily_unavailable');
    sim.control({ token: { outage: null } });
    expect(await token(app())).toBeTruthy();
    expect(sim.stats().token).toMatchObject({ requests: 2, failures: 1, issued: 1 });
  });

  it('revokeAll makes Graph answer 401 InvalidAuthenticationToken for earlier tokens', async () => {
    const before = await token(app());
    sim.control({ token: { revokeAll: true } });
    const err = await retire(before).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphUnauthorizedError);
    expect((err as GraphUnauthorizedError).code).toBe('InvalidAuthenticationToken');
    expect((await retire(await token(app()))).status).toBe(204);
  });

  it('without admin consent the token has no role and Graph answers 403', async () => {
    sim.control({ token: { consentMissing: true } });
    const err = await retire(await token(app())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphForbiddenError);
    expect((err as GraphForbiddenError).code).toBe('Authorization_RequestDenied');
  });

  it('Graph refuses expired, foreign and missing tokens', async () => {
    const short = await startTestSimulator({ tokenLifetimeSec: 1 });
    try {
      const cca = new ConfidentialClientApplication({ auth: short.msalAuth });
      const result = await cca.acquireTokenByClientCredential({ scopes: SCOPE });
      const accessToken = result?.accessToken ?? '';
      // A token from another simulator (another signing key) is refused.
      await expect(retire(accessToken)).rejects.toBeInstanceOf(GraphUnauthorizedError);
      await new Promise((r) => setTimeout(r, 1100));
      const expired = await removeAllDevicesFromManagement({
        baseUrl: short.graphBaseUrl,
        user: 'ann@contoso.com',
        token: accessToken,
        timeoutMs: 5000,
      }).catch((e: unknown) => e);
      expect(expired).toBeInstanceOf(GraphUnauthorizedError);
      expect((expired as GraphUnauthorizedError).graphMessage).toMatch(/expired/);
      await expect(retire('')).rejects.toBeInstanceOf(GraphUnauthorizedError);
    } finally {
      await short.close();
    }
  });
});
