// App mode against the Entra simulator over HTTPS with real MSAL: secret, certificate, workload identity.
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { pino } from 'pino';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { TokenAcquisitionError } from '../../src/entra/errors.js';
import { createTokenProvider } from '../../src/entra/provider.js';
import type { TokenProvider } from '../../src/interfaces.js';
import { createRedis, type RedisClient } from '../../src/redis/connection.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Simulator, startTestSimulator } from '../helpers/sim.js';

let sim: Simulator;
let redisServer: TestRedis;
let redis: RedisClient;
const dir = mkdtempSync(join(tmpdir(), 'offboard-auth-app-'));
const providers: TokenProvider[] = [];

beforeAll(async () => {
  [sim, redisServer] = await Promise.all([startTestSimulator(), startRedis()]);
  redis = createRedis({ url: redisServer.url, prefix: redisServer.prefix });
});

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close?.()));
  redis?.disconnect();
  await Promise.all([sim?.close(), redisServer?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function appConfig(s: Simulator, credential: Record<string, string>): Config {
  return testConfig(
    {
      AZURE_AUTHORITY_HOST: s.authorityHost,
      AZURE_TENANT_ID: s.tenantId,
      AZURE_CLIENT_ID: s.clientId,
      GRAPH_BASE_URL: s.graphBaseUrl,
      REDIS_URL: redisServer.url,
      QUEUE_PREFIX: redisServer.prefix,
      ...credential,
    },
    { needAuth: true },
  );
}

function provider(config: Config, logger?: pino.Logger): TokenProvider {
  const p = createTokenProvider(config, { redis, logger });
  providers.push(p);
  return p;
}

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), text: () => text };
}

async function failure(p: Promise<unknown>): Promise<TokenAcquisitionError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TokenAcquisitionError);
    return err as TokenAcquisitionError;
  }
  throw new Error('expected a TokenAcquisitionError');
}

/** The token really works: Graph's fake accepts it for the retire action. */
async function graphAccepts(s: Simulator, token: string): Promise<number> {
  const res = await fetch(`${s.graphBaseUrl}/users/leaver%40contoso.com/removeAllDevicesFromManagement`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

const requests = (s: Simulator) => s.stats().token.requests;

describe('app mode with a client secret', () => {
  it('20 concurrent callers cause exactly one token request; later calls reuse the cached token', async () => {
    const p = provider(appConfig(sim, { AZURE_CLIENT_SECRET: sim.clientSecret }));
    const before = requests(sim);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => p.getToken()));
    expect(requests(sim) - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    const token = tokens[0] as string;
    expect(await graphAccepts(sim, token)).toBe(204);

    expect(await p.getToken()).toBe(token);
    expect(requests(sim) - before).toBe(1);
  });

  it('forceRefresh sends exactly one more request, shared by concurrent forced callers', async () => {
    const p = provider(appConfig(sim, { AZURE_CLIENT_SECRET: sim.clientSecret }));
    const first = await p.getToken();
    const before = requests(sim);
    const forced = await Promise.all([
      p.getToken({ forceRefresh: true }),
      p.getToken({ forceRefresh: true }),
    ]);
    expect(requests(sim) - before).toBe(1);
    expect(forced[0]).toBe(forced[1]);
    expect(forced[0]).not.toBe(first);
    // The refreshed token is now the cached one.
    expect(await p.getToken()).toBe(forced[0]);
    expect(requests(sim) - before).toBe(1);
  });

  it('a wrong secret is invalid_client, permanent, and the secret appears in no message or log', async () => {
    const wrong = 'Wr0ng~Secret.Value-never-to-be-logged';
    const { logger, text } = capture();
    const p = provider(appConfig(sim, { AZURE_CLIENT_SECRET: wrong }), logger);
    const err = await failure(p.getToken());
    expect(err.code).toBe('invalid_client');
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/AADSTS7000215/);
    // The failure was logged (so the check below has something to look at), without the secret.
    expect(text()).toContain('"code":"invalid_client"');
    for (const secret of [wrong, sim.clientSecret]) {
      expect(err.message).not.toContain(secret);
      expect(inspect(err, { depth: 10 })).not.toContain(secret);
      expect(text()).not.toContain(secret);
    }
    // Not cached by MSAL: the next attempt asks again (and fails again).
    const before = requests(sim);
    expect((await failure(p.getToken())).code).toBe('invalid_client');
    expect(requests(sim) - before).toBe(1);
  });

  it('a token endpoint outage (503) is transient, and so is MSAL replaying it without asking', async () => {
    const { logger, text } = capture();
    const p = provider(appConfig(sim, { AZURE_CLIENT_SECRET: sim.clientSecret }), logger);
    sim.control({ token: { outage: 503 } });
    try {
      const err = await failure(p.getToken());
      expect(err.code).toBe('token_endpoint_unavailable');
      expect(err.transient).toBe(true);

      // MSAL's throttling cache answers the next attempt itself: still transient, nothing sent.
      const before = requests(sim);
      const replay = await failure(p.getToken());
      expect(replay.transient).toBe(true);
      expect(['token_endpoint_unavailable', 'throttled']).toContain(replay.code);
      expect(replay.retryAfterMs).toBeGreaterThan(0);
      expect(requests(sim)).toBe(before);
    } finally {
      sim.control({ token: { outage: null } });
    }
    expect(text()).toContain('"code":"token_endpoint_unavailable"');
    expect(text()).not.toContain(sim.clientSecret);
    // A provider built after the outage gets a token at once.
    const fresh = provider(appConfig(sim, { AZURE_CLIENT_SECRET: sim.clientSecret }));
    expect(await graphAccepts(sim, await fresh.getToken())).toBe(204);
  });

  it('a 429 from the token endpoint is transient and says how long MSAL will hold back', async () => {
    const p = provider(appConfig(sim, { AZURE_CLIENT_SECRET: sim.clientSecret }));
    sim.control({ token: { outage: 429 } });
    try {
      const err = await failure(p.getToken());
      expect(err.code).toBe('throttled');
      expect(err.transient).toBe(true);
      expect(err.retryAfterMs).toBeGreaterThan(0);
    } finally {
      sim.control({ token: { outage: null } });
    }
  });
});

describe('app mode token lifetime', () => {
  let shortSim: Simulator;
  beforeAll(async () => {
    // MSAL renews a cached token 300 s before it expires: with 310 s it is reusable for about 10 s.
    shortSim = await startTestSimulator({ tokenLifetimeSec: 310 });
  });
  afterAll(async () => {
    await shortSim?.close();
  });

  it('the cached token is renewed before it expires, without a forced refresh', async () => {
    const p = provider(appConfig(shortSim, { AZURE_CLIENT_SECRET: shortSim.clientSecret }));
    const first = await p.getToken();
    const start = requests(shortSim);
    expect(await p.getToken()).toBe(first);
    expect(requests(shortSim)).toBe(start);
    let renewed = first;
    const deadline = Date.now() + 30_000;
    while (renewed === first && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      renewed = await p.getToken();
    }
    expect(renewed).not.toBe(first);
    expect(requests(shortSim)).toBe(start + 1);
    // The old token was still valid: the renewal happened ahead of expiry.
    expect(await graphAccepts(shortSim, first)).toBe(204);
    expect(await graphAccepts(shortSim, renewed)).toBe(204);
  });
});

describe('app mode with a certificate', () => {
  let certSim: Simulator;
  let pems: { private: string; cert: string };

  beforeAll(async () => {
    pems = await selfsigned.generate([{ name: 'commonName', value: 'offboard-client' }], {
      keyType: 'rsa',
      keySize: 2048,
    });
    certSim = await startTestSimulator({ clientCertificatePem: pems.cert });
  });
  afterAll(async () => {
    await certSim?.close();
  });

  it('signs a client assertion that the token endpoint accepts (password-protected key)', async () => {
    const encrypted = createPrivateKey(pems.private)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pem pass' })
      .toString();
    const path = join(dir, 'client.pem');
    writeFileSync(path, `${encrypted}\n${pems.cert}`);
    const p = provider(
      appConfig(certSim, {
        AZURE_CLIENT_CERTIFICATE_PATH: path,
        AZURE_CLIENT_CERTIFICATE_PASSWORD: 'pem pass',
      }),
    );
    const token = await p.getToken();
    expect(await graphAccepts(certSim, token)).toBe(204);
    expect(certSim.stats().token.byGrant.client_credentials).toBeGreaterThanOrEqual(1);
  });

  it('a certificate the app registration does not know is invalid_client', async () => {
    const other = await selfsigned.generate([{ name: 'commonName', value: 'stranger' }], {
      keyType: 'rsa',
      keySize: 2048,
    });
    const path = join(dir, 'stranger.pem');
    writeFileSync(path, `${other.private}\n${other.cert}`);
    const p = provider(appConfig(certSim, { AZURE_CLIENT_CERTIFICATE_PATH: path }));
    const err = await failure(p.getToken());
    expect(err.code).toBe('invalid_client');
    expect(err.transient).toBe(false);
  });

  it('an unreadable certificate fails when the provider is built, not at the first job', () => {
    const cfg = appConfig(certSim, { AZURE_CLIENT_CERTIFICATE_PATH: join(dir, 'missing.pem') });
    expect(() => createTokenProvider(cfg, { redis })).toThrow(TokenAcquisitionError);
  });
});

describe('app mode with a federated token file (workload identity)', () => {
  it('re-reads the rotated file at every acquisition', async () => {
    const file = join(dir, 'azure-identity-token');
    writeFileSync(file, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdGFsZSJ9.c3RhbGU');
    const p = provider(appConfig(sim, { AZURE_FEDERATED_TOKEN_FILE: file }));
    const stale = await failure(p.getToken());
    expect(stale.code).toBe('invalid_client');
    expect(stale.transient).toBe(false);

    // The kubelet rotates the projected token: the same provider picks it up without a restart.
    writeFileSync(file, `${sim.federatedToken}\n`);
    const token = await p.getToken();
    expect(await graphAccepts(sim, token)).toBe(204);

    writeFileSync(file, 'rotated-to-something-invalid');
    const err = await failure(p.getToken({ forceRefresh: true }));
    expect(err.code).toBe('invalid_client');
    expect(err.message).not.toContain(sim.federatedToken);

    rmSync(file);
    const missing = await failure(p.getToken({ forceRefresh: true }));
    expect(missing.code).toBe('federated_token_unreadable');
  });
});
