// Delegated mode: device-code sign-in against the simulator, the encrypted MSAL cache in a real Redis,
// and silent acquisition from that cache in fresh processes (as workers on other hosts would).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { decryptCache } from '../../src/entra/cache-crypto.js';
import { login } from '../../src/entra/delegated.js';
import { LoginRequiredError, TokenAcquisitionError } from '../../src/entra/errors.js';
import { createTokenProvider } from '../../src/entra/provider.js';
import { keys } from '../../src/queue/names.js';
import { createRedis, type RedisClient } from '../../src/redis/connection.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Simulator, startTestSimulator } from '../helpers/sim.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/silent-token.ts', import.meta.url));
/** Device-code polls, under the name MSAL sends (`device_code`) or the RFC 8628 URN. */
const DEVICE_GRANTS = ['device_code', 'urn:ietf:params:oauth:grant-type:device_code'];
/** Requests to the device-authorization endpoint: a new device code. */
const NEW_DEVICE_CODE = 'device_authorization';

let sim: Simulator;
let redisServer: TestRedis;
let redis: RedisClient;
const cacheKey = randomBytes(32).toString('base64');

beforeAll(async () => {
  [sim, redisServer] = await Promise.all([startTestSimulator(), startRedis()]);
  redis = createRedis({ url: redisServer.url, prefix: redisServer.prefix });
});

afterAll(async () => {
  redis?.disconnect();
  await Promise.all([sim?.close(), redisServer?.stop()]);
});

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AUTH_MODE: 'delegated',
    AZURE_AUTHORITY_HOST: sim.authorityHost,
    AZURE_TENANT_ID: sim.tenantId,
    AZURE_CLIENT_ID: sim.clientId,
    GRAPH_BASE_URL: sim.graphBaseUrl,
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: redisServer.prefix,
    TOKEN_CACHE_KEY: cacheKey,
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

const cfg = (overrides: Record<string, string> = {}): Config =>
  testConfig(env(overrides), { needAuth: true });
const grants = (...names: string[]) => names.reduce((n, g) => n + (sim.stats().token.byGrant[g] ?? 0), 0);
const cacheRedisKey = () => keys.tokenCache(redisServer.prefix, sim.clientId);

interface FixtureResult {
  ok: boolean;
  upn?: string;
  idtyp?: string;
  sha256?: string;
  code?: string;
  name?: string;
  message?: string;
}

/** A brand-new Node process with nothing but the environment and Redis. */
function freshProcess(extra: Record<string, string> = {}): Promise<FixtureResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', FIXTURE],
      { cwd: ROOT, env: { ...process.env, ...env(extra) }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as FixtureResult);
        } catch {
          reject(new Error(`fixture failed (${err?.message ?? 'no output'}): ${stderr.slice(0, 2000)}`));
        }
      },
    );
  });
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

describe('delegated mode', () => {
  it('before any sign-in, workers get LoginRequiredError', async () => {
    const p = createTokenProvider(cfg(), { redis });
    const err = await failure(p.getToken());
    expect(err).toBeInstanceOf(LoginRequiredError);
    expect(err.code).toBe('login_required');
    expect(err.transient).toBe(false);
  });

  it('device-code login stores a cache that is ciphertext: no refresh token, no access token in Redis', async () => {
    const messages: string[] = [];
    const deviceBefore = grants(...DEVICE_GRANTS);
    const codesBefore = grants(NEW_DEVICE_CODE);
    const username = await login(cfg(), { redis }, { onCode: (m) => messages.push(m) });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/enter the code \S+/);
    expect(username).toMatch(/@/);
    expect(grants(NEW_DEVICE_CODE)).toBe(codesBefore + 1);
    expect(grants(...DEVICE_GRANTS)).toBeGreaterThan(deviceBefore);

    const stored = await redis.get(cacheRedisKey());
    expect(stored).toBeTruthy();
    const plain = JSON.parse(
      decryptCache(stored as string, Buffer.from(cacheKey, 'base64'), cacheRedisKey()),
    );
    const secrets = (section: Record<string, { secret: string }>) =>
      Object.values(section).map((e) => e.secret);
    const refreshTokens = secrets(plain.RefreshToken);
    const accessTokens = secrets(plain.AccessToken);
    expect(refreshTokens.length).toBe(1);
    expect(accessTokens.length).toBe(1);
    for (const secret of [...refreshTokens, ...accessTokens]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(stored).not.toContain(secret);
    }
    expect(stored).not.toContain(username);
    expect(await redis.pttl(cacheRedisKey())).toBeGreaterThan(0);

    // In this process too: the worker's token is the one in the cache, and Graph takes it.
    const token = await createTokenProvider(cfg(), { redis }).getToken();
    expect(accessTokens).toContain(token);
    const res = await fetch(`${sim.graphBaseUrl}/users/leaver%40contoso.com/removeAllDevicesFromManagement`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(204);
  });

  it('a fresh process acquires silently from the Redis cache, without a new device code', async () => {
    const deviceBefore = grants(...DEVICE_GRANTS, NEW_DEVICE_CODE);
    const requestsBefore = sim.stats().token.requests;
    const cached = await freshProcess();
    expect(cached).toMatchObject({ ok: true, idtyp: 'user' });
    expect(cached.upn).toMatch(/@/);
    // The cached access token was still valid: no token request at all.
    expect(sim.stats().token.requests).toBe(requestsBefore);

    // Forced refresh in another fresh process: the refresh token from Redis, still no device code.
    const refreshBefore = grants('refresh_token');
    const refreshed = await freshProcess({ FORCE_REFRESH: '1' });
    expect(refreshed).toMatchObject({ ok: true, upn: cached.upn });
    expect(refreshed.sha256).not.toBe(cached.sha256);
    expect(grants('refresh_token')).toBe(refreshBefore + 1);
    expect(grants(...DEVICE_GRANTS, NEW_DEVICE_CODE)).toBe(deviceBefore);
  });

  it('a wrong TOKEN_CACHE_KEY is token_cache_unreadable, in process and in a fresh process', async () => {
    const otherKey = randomBytes(32).toString('base64');
    const err = await failure(createTokenProvider(cfg({ TOKEN_CACHE_KEY: otherKey }), { redis }).getToken());
    expect(err.code).toBe('token_cache_unreadable');
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/TOKEN_CACHE_KEY/);

    const out = await freshProcess({ TOKEN_CACHE_KEY: otherKey });
    expect(out).toMatchObject({ ok: false, code: 'token_cache_unreadable' });
  });

  it('a revoked refresh token is invalid_grant (permanent) on the next refresh', async () => {
    const p = createTokenProvider(cfg(), { redis });
    await p.getToken();
    sim.control({ token: { revokeRefreshTokens: true } });
    const err = await failure(p.getToken({ forceRefresh: true }));
    expect(err.code).toBe('invalid_grant');
    expect(err.transient).toBe(false);
  });

  it('login again with a new key replaces the unreadable cache; the old key then cannot read it', async () => {
    const newKey = randomBytes(32).toString('base64');
    const username = await login(cfg({ TOKEN_CACHE_KEY: newKey }), { redis }, { onCode: () => {} });
    expect(username).toMatch(/@/);
    const ok = await freshProcess({ TOKEN_CACHE_KEY: newKey });
    expect(ok).toMatchObject({ ok: true, upn: username });
    const old = await failure(createTokenProvider(cfg(), { redis }).getToken());
    expect(old.code).toBe('token_cache_unreadable');
  });
});
