// Several tenants behind the simulator's one app, over HTTP: a token per tenant authority carrying its
// `tid`, Graph calls attributed to it with per-tenant limits, windows and counters, other apps eating a
// tenant's cross-app budget, lost consent in Entra's real words, and a tenant answering 429 Retry-After: 30.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readAccessTokenClaims } from '../../src/entra/claims.js';
import { postRetire, startTestSimulator, type TestSimulator } from '../helpers/sim.js';

const A = '11111111-2222-4333-8444-555555555555';
const B = '22222222-3333-4444-8555-666666666666';
const C = '33333333-4444-4555-8666-777777777777';

let sim: TestSimulator;

async function tokenFor(tenant: string): Promise<Response> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: sim.clientId,
    client_secret: sim.clientSecret,
    scope: 'https://graph.microsoft.com/.default',
  });
  return fetch(`${sim.authorityHost}/${tenant}/oauth2/v2.0/token`, { method: 'POST', body });
}

async function appToken(tenant: string): Promise<string> {
  const res = await tokenFor(tenant);
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token) throw new Error(`no token for ${tenant}: ${res.status}`);
  return json.access_token;
}

async function control(patch: unknown): Promise<Response> {
  return fetch(`${sim.controlUrl}/control`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({
    violationGraceMs: 25,
    tenants: { [A]: {}, [B]: {} },
  });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.control({
    limit: null,
    tenantLimit: null,
    tenants: {
      [A]: {
        limit: 'default',
        tenantLimit: 'default',
        consent: 'granted',
        throttle: null,
        otherAppsPerSec: 0,
      },
      [B]: {
        limit: 'default',
        tenantLimit: 'default',
        consent: 'granted',
        throttle: null,
        otherAppsPerSec: 0,
      },
    },
  });
  sim.reset();
});

describe('tokens per tenant authority', () => {
  it('issues each tenant its own token (tid) from its own authority and discovery document', async () => {
    expect(sim.tenantIds()).toEqual([sim.tenantId, A, B]);
    expect(readAccessTokenClaims(await appToken(A)).tid).toBe(A);
    expect(readAccessTokenClaims(await appToken(B)).tid).toBe(B);
    const doc = (await (
      await fetch(`${sim.authorityHost}/${B}/v2.0/.well-known/openid-configuration`)
    ).json()) as {
      token_endpoint: string;
    };
    expect(doc.token_endpoint).toBe(`${sim.authorityHost}/${B}/oauth2/v2.0/token`);
    const unknown = await tokenFor(C);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error_codes: number[] }).error_codes).toEqual([90002]);
    const stats = sim.stats({ log: false }).tenants ?? {};
    expect(stats[A]?.token).toEqual({ requests: 1, failures: 0, issued: 1 });
  });

  it('creates a tenant on its first token request when autoCreateTenants is on', async () => {
    expect((await control({ autoCreateTenants: true })).status).toBe(200);
    try {
      expect(readAccessTokenClaims(await appToken(C)).tid).toBe(C);
      expect(sim.tenantIds()).toContain(C);
    } finally {
      sim.control({ autoCreateTenants: false });
    }
  });

  it('refuses a control naming a tenant that is not a GUID', async () => {
    const res = await control({ tenants: { contoso: { limit: null } } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_control');
  });
});

describe('Graph attributes calls to the token tenant', () => {
  it('keeps a write limit per tenant: one tenant at its limit leaves the others untouched', async () => {
    sim.control({ tenants: { [A]: { limit: { limit: 2, windowMs: 5000 } } } });
    const [a, b] = await Promise.all([appToken(A), appToken(B)]);
    const first = [];
    for (let i = 0; i < 3; i++) first.push((await postRetire(sim, `a${i}@a.example`, a)).status);
    expect(first).toEqual([204, 204, 429]);
    // B has no limit of its own and the simulator's is null: never throttled.
    for (let i = 0; i < 5; i++) expect((await postRetire(sim, `b${i}@b.example`, b)).status).toBe(204);
    // A call of A inside A's announced window is a violation of A's only.
    await new Promise((r) => setTimeout(r, 60));
    expect((await postRetire(sim, 'rude@a.example', a)).status).toBe(429);
    expect((await postRetire(sim, 'polite@b.example', b)).status).toBe(204);
    const t = sim.stats().tenants ?? {};
    expect(t[A]).toMatchObject({ calls: 4, succeeded: 2, throttled: 2, insideRetryAfterWindow: 1 });
    expect(t[B]).toMatchObject({ calls: 6, succeeded: 6, throttled: 0, insideRetryAfterWindow: 0 });
    expect(Object.keys(t[B]?.firstCallByUser ?? {})).toHaveLength(6);
    expect(t[A]?.firstCallByUser['a0@a.example']).toBeGreaterThan(0);
    // The simulator-wide counters still see every call.
    expect(sim.stats({ log: false }).graph.calls).toBe(10);
  });

  it('applies the simulator-wide limit to each tenant separately (a per-tenant window each)', async () => {
    sim.control({ limit: { limit: 1, windowMs: 5000 } });
    const [a, b] = await Promise.all([appToken(A), appToken(B)]);
    expect((await postRetire(sim, 'x@a.example', a)).status).toBe(204);
    expect((await postRetire(sim, 'y@b.example', b)).status).toBe(204);
    expect((await postRetire(sim, 'z@b.example', b)).status).toBe(429);
  });

  it('lets other apps eat a tenant cross-app budget', async () => {
    sim.control({ tenants: { [A]: { tenantLimit: { limit: 10, windowMs: 1000 }, otherAppsPerSec: 50 } } });
    await new Promise((r) => setTimeout(r, 300));
    const a = await appToken(A);
    // Other apps at 50/s fill the 10 per second budget: this app finds no room.
    expect((await postRetire(sim, 'crowded@a.example', a)).status).toBe(429);
    sim.control({ tenants: { [A]: { otherAppsPerSec: 0 } } });
    const other = sim.stats({ log: false }).tenants?.[A]?.otherApps;
    expect(other?.admitted).toBe(10);
    expect(other?.throttled).toBeGreaterThan(0);
  });

  it('answers 429 with Retry-After: 30 for the switched tenant only, and counts a call inside that window', async () => {
    sim.control({ tenants: { [B]: { throttle: { retryAfter: '30', calls: 1 } } } });
    const [a, b] = await Promise.all([appToken(A), appToken(B)]);
    const throttled = await postRetire(sim, 'first@b.example', b);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('30');
    expect((await postRetire(sim, 'free@a.example', a)).status).toBe(204);
    await new Promise((r) => setTimeout(r, 60));
    // The switch has run out, but the announced 30 s still hold: a client that ignores them is caught.
    const again = await postRetire(sim, 'second@b.example', b);
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(28);
    const t = sim.stats({ log: false }).tenants ?? {};
    expect(t[B]).toMatchObject({ throttled: 2, insideRetryAfterWindow: 1 });
    expect(t[A]).toMatchObject({ throttled: 0, insideRetryAfterWindow: 0 });
  });
});

describe('consent lost in one tenant', () => {
  it('answers AADSTS7000229 when the service principal is removed, and refuses that tenant earlier tokens', async () => {
    const held = await appToken(A);
    sim.control({ tenants: { [A]: { consent: 'servicePrincipalRemoved' } } });
    const res = await tokenFor(A);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; error_codes: number[]; error_description: string };
    expect(body.error).toBe('invalid_client');
    expect(body.error_codes).toEqual([7000229]);
    expect(body.error_description).toContain(`missing service principal in the tenant ${A}`);
    expect((await postRetire(sim, 'u@a.example', held)).status).toBe(401);
    // B is untouched.
    expect((await postRetire(sim, 'u@b.example', await appToken(B))).status).toBe(204);
    sim.control({ tenants: { [A]: { consent: 'granted' } } });
    expect((await postRetire(sim, 'u@a.example', await appToken(A))).status).toBe(204);
  });

  it('answers AADSTS65001 (consent_required) when consent is required', async () => {
    sim.control({ tenants: { [A]: { consent: 'consentRequired' } } });
    const res = await tokenFor(A);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; error_codes: number[]; suberror: string };
    expect(body).toMatchObject({
      error: 'invalid_grant',
      error_codes: [65001],
      suberror: 'consent_required',
    });
    expect(sim.stats({ log: false }).tenants?.[A]?.token.failures).toBe(1);
  });

  it('answers Graph 403 when admin consent is revoked (roleless tokens)', async () => {
    sim.control({ tenants: { [B]: { consent: 'revoked' } } });
    const b = await appToken(B);
    expect(readAccessTokenClaims(b).roles).toBeUndefined();
    const res = await postRetire(sim, 'u@b.example', b);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'Authorization_RequestDenied',
    );
    expect((await postRetire(sim, 'u@a.example', await appToken(A))).status).toBe(204);
  });
});

describe('a directory per tenant', () => {
  it('lists only the token tenant users', async () => {
    sim.control({
      tenants: {
        [A]: { users: { clear: true, upsert: [{ userPrincipalName: 'ann@a.example' }] } },
        [B]: { users: { clear: true, upsert: [{ userPrincipalName: 'bob@b.example' }] } },
      },
    });
    const list = async (tenant: string) => {
      const res = await fetch(`${sim.graphBaseUrl}/users?$select=userPrincipalName`, {
        headers: { authorization: `Bearer ${await appToken(tenant)}` },
      });
      return ((await res.json()) as { value: { userPrincipalName: string }[] }).value.map(
        (u) => u.userPrincipalName,
      );
    };
    expect(await list(A)).toEqual(['ann@a.example']);
    expect(await list(B)).toEqual(['bob@b.example']);
  });
});
