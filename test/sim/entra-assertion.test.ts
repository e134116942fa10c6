import { createHash, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, ServerError } from '@azure/msal-node';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeAllDevicesFromManagement } from '../../src/graph/client.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';

const SCOPE = ['https://graph.microsoft.com/.default'];
let sim: TestSimulator;
let cert: { cert: string; private: string };
let otherCert: { cert: string; private: string };

async function rsaCert(cn: string) {
  return selfsigned.generate([{ name: 'commonName', value: cn }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
  });
}

function thumbprints(pem: string) {
  const raw = new X509Certificate(pem).raw;
  return {
    sha1: createHash('sha1').update(raw).digest('hex'),
    sha256: createHash('sha256').update(raw).digest('hex'),
  };
}

beforeAll(async () => {
  [cert, otherCert] = await Promise.all([rsaCert('offboard-app'), rsaCert('someone-else')]);
  sim = await startTestSimulator({ clientCertificatePem: cert.cert, federatedToken: 'k8s-projected-token' });
});
afterAll(async () => {
  await sim?.close();
});

function auth() {
  const { clientSecret: _unused, ...rest } = sim.msalAuth;
  return rest;
}

async function useToken(accessToken: string | undefined): Promise<number> {
  const result = await removeAllDevicesFromManagement({
    baseUrl: sim.graphBaseUrl,
    user: 'ann@contoso.com',
    token: accessToken ?? '',
    timeoutMs: 5000,
  });
  return result.status;
}

describe('Entra fake with client assertions (real MSAL)', () => {
  it('accepts the federated (workload identity) assertion and caches the token', async () => {
    sim.reset();
    expect(sim.federatedToken).toBe('k8s-projected-token');
    const cca = new ConfidentialClientApplication({
      auth: { ...auth(), clientAssertion: sim.federatedToken },
    });
    const first = await cca.acquireTokenByClientCredential({ scopes: SCOPE });
    const second = await cca.acquireTokenByClientCredential({ scopes: SCOPE });
    expect(second?.accessToken).toBe(first?.accessToken);
    expect(sim.stats().token.requests).toBe(1);
    expect(await useToken(first?.accessToken)).toBe(204);
  });

  it('rejects a federated assertion that matches nothing', async () => {
    const cca = new ConfidentialClientApplication({ auth: { ...auth(), clientAssertion: 'not-the-token' } });
    const err = await cca.acquireTokenByClientCredential({ scopes: SCOPE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).errorCode).toBe('invalid_client');
  });

  it('accepts a certificate-signed assertion, RS256 (SHA-1 thumbprint) and PS256 (SHA-256)', async () => {
    const { sha1, sha256 } = thumbprints(cert.cert);
    const rs = new ConfidentialClientApplication({
      auth: { ...auth(), clientCertificate: { thumbprint: sha1, privateKey: cert.private } },
    });
    expect(await useToken((await rs.acquireTokenByClientCredential({ scopes: SCOPE }))?.accessToken)).toBe(
      204,
    );
    const ps = new ConfidentialClientApplication({
      auth: {
        ...auth(),
        clientCertificate: { thumbprintSha256: sha256, privateKey: cert.private, x5c: cert.cert },
      },
    });
    expect(await useToken((await ps.acquireTokenByClientCredential({ scopes: SCOPE }))?.accessToken)).toBe(
      204,
    );
  });

  it('rejects an assertion signed by another key, or naming an unknown certificate', async () => {
    const own = thumbprints(cert.cert);
    const other = thumbprints(otherCert.cert);
    for (const clientCertificate of [
      { thumbprintSha256: own.sha256, privateKey: otherCert.private },
      { thumbprintSha256: other.sha256, privateKey: otherCert.private },
    ]) {
      const cca = new ConfidentialClientApplication({ auth: { ...auth(), clientCertificate } });
      const err = await cca.acquireTokenByClientCredential({ scopes: SCOPE }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServerError);
      expect((err as ServerError).errorCode).toBe('invalid_client');
      expect(String((err as ServerError).errorNo)).toBe('700027');
    }
  });
});
