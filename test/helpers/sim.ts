// Starts the Graph + Entra simulator for a test file and builds what the product needs to use it.
// Requires test/global-setup.ts (NODE_EXTRA_CA_CERTS), which vitest runs before forking workers.
import { startSimulator } from '../../src/sim/index.js';
import type { Simulator, SimulatorOptions } from '../../src/sim/types.js';

export type { Simulator, SimulatorOptions };

export interface TestSimulator extends Simulator {
  /** MSAL configuration for an app (client secret) against this simulator. */
  msalAuth: { clientId: string; authority: string; clientSecret: string; knownAuthorities: string[] };
}

export async function startTestSimulator(opts: SimulatorOptions = {}): Promise<TestSimulator> {
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error('NODE_EXTRA_CA_CERTS is not set: run tests through vitest (test/global-setup.ts)');
  }
  const sim = await startSimulator(opts);
  // Getters, not copies: the secret can be rotated through control.
  return Object.defineProperties(sim, {
    msalAuth: {
      get: () => ({
        clientId: sim.clientId,
        authority: `${sim.authorityHost}/${sim.tenantId}`,
        clientSecret: sim.clientSecret,
        knownAuthorities: [sim.authorityHostAndPort],
      }),
      enumerable: true,
    },
  }) as TestSimulator;
}

/** A client-credentials access token straight from the Entra fake (no MSAL, no cache). */
export async function fetchAppToken(sim: Simulator): Promise<string> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: sim.clientId,
    client_secret: sim.clientSecret,
    scope: 'https://graph.microsoft.com/.default',
  });
  const res = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, { method: 'POST', body });
  const json = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !json.access_token)
    throw new Error(`token request failed (${res.status}): ${json.error_description}`);
  return json.access_token;
}

/** One raw POST to the retire action, for tests that need the response as the wire shows it. */
export function postRetire(sim: Simulator, user: string, token: string): Promise<Response> {
  const path = user.startsWith('$')
    ? `users('${encodeURIComponent(user)}')`
    : `users/${encodeURIComponent(user)}`;
  return fetch(`${sim.graphBaseUrl}/${path}/removeAllDevicesFromManagement`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
}
