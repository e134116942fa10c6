// Issue 19 item 12: a 307 from the authority must not carry the client secret anywhere. A loopback
// HTTPS "authority" serves the simulator's discovery documents but answers the token POST with 307 to a
// plain-http loopback server that records whatever reaches it. Real MSAL, real fetch, real Redis.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AuthError } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenAcquisitionError } from '../../src/entra/errors.js';
import { AUTHORITY_REDIRECT, TrackedHttpClient } from '../../src/entra/http-client.js';
import { createTokenProvider } from '../../src/entra/provider.js';
import { createRedis, type RedisClient } from '../../src/redis/connection.js';
import { ensureSimCertificate } from '../../src/sim/index.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Simulator, startTestSimulator } from '../helpers/sim.js';

const SECRET = 'S3cret~never-to-leave-the-authority';
let sim: Simulator;
let redisServer: TestRedis;
let redis: RedisClient;
let front: Server;
let recorder: Server;
let frontOrigin: string;
let recorderUrl: string;
const seen: { method?: string; url?: string; body: string }[] = [];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => resolve(body));
  });

const listen = (s: Server) =>
  new Promise<number>((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)),
  );

beforeAll(async () => {
  [sim, redisServer] = await Promise.all([startTestSimulator(), startRedis()]);
  redis = createRedis({ url: redisServer.url, prefix: redisServer.prefix });
  recorder = createHttpServer(async (req, res) => {
    seen.push({ method: req.method, url: req.url, body: await readBody(req) });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"stolen"}');
  });
  recorderUrl = `http://127.0.0.1:${await listen(recorder)}/steal`;
  const tls = await ensureSimCertificate(process.env.OFFBOARD_SIM_TLS_DIR as string);
  front = createHttpsServer(
    { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) },
    async (req, res) => {
      await readBody(req);
      if (req.method === 'POST') {
        res.writeHead(307, { location: recorderUrl }).end();
        return;
      }
      // Discovery: the simulator's documents, with its origin replaced by this server's.
      const upstream = await fetch(`${sim.authorityHost}${req.url}`);
      const text = (await upstream.text()).replaceAll(sim.authorityHost, frontOrigin);
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
    },
  );
  frontOrigin = `https://127.0.0.1:${await listen(front)}`;
});

afterAll(async () => {
  redis?.disconnect();
  await Promise.all([
    sim?.close(),
    redisServer?.stop(),
    new Promise((r) => front?.close(r)),
    new Promise((r) => recorder?.close(r)),
  ]);
});

describe('the Entra token client and redirects', () => {
  it('control: a client that follows redirects does hand the body to the other host', async () => {
    const before = seen.length;
    await fetch(`${frontOrigin}/${sim.tenantId}/oauth2/v2.0/token`, { method: 'POST', body: 'probe=1' });
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)?.body).toBe('probe=1');
    seen.length = 0;
  });

  it('TrackedHttpClient treats a 307 as an error naming no secret, and sends nothing onward', async () => {
    const http = new TrackedHttpClient({ timeoutMs: 5_000 });
    const err = await http
      .sendPostRequestAsync(`${frontOrigin}/${sim.tenantId}/oauth2/v2.0/token`, {
        body: `client_secret=${SECRET}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).errorCode).toBe(AUTHORITY_REDIRECT);
    expect((err as AuthError).errorMessage).toMatch(/HTTP 307/);
    expect(String((err as AuthError).errorMessage)).not.toContain(SECRET);
    expect(String((err as AuthError).errorMessage)).not.toContain('steal');
    expect(seen).toEqual([]);
  });

  it('real MSAL in app mode: the token request fails permanently and the recorder got nothing', async () => {
    const config = testConfig(
      {
        AZURE_AUTHORITY_HOST: frontOrigin,
        AZURE_TENANT_ID: sim.tenantId,
        AZURE_CLIENT_ID: sim.clientId,
        AZURE_CLIENT_SECRET: SECRET,
        GRAPH_BASE_URL: sim.graphBaseUrl,
        REDIS_URL: redisServer.url,
        QUEUE_PREFIX: redisServer.prefix,
      },
      { needAuth: true },
    );
    const provider = createTokenProvider(config, { redis });
    try {
      const err = await provider.getToken().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TokenAcquisitionError);
      const tokenErr = err as TokenAcquisitionError;
      expect(tokenErr.code).toBe(AUTHORITY_REDIRECT);
      expect(tokenErr.transient).toBe(false);
      expect(tokenErr.message).not.toContain(SECRET);
      expect(seen).toEqual([]);
    } finally {
      await provider.close?.();
    }
  });
});
