// GET /v1/preflight: operators only (producer, viewer, no key, a wrong key and the dashboard's Basic
// auth are refused before anything reaches Graph), the same report as the CLI, kept for the console,
// and nothing but GETs sent to Graph.

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { lastReport } from '../../src/preflight/store.js';
import type { PreflightReport } from '../../src/preflight/types.js';
import { createRedis, type RedisClient } from '../../src/redis/connection.js';
import { PERMISSIONS } from '../../src/sim/tokens.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Simulator, startTestSimulator } from '../helpers/sim.js';
import { apiConfig, bearer, KEY_NAMES, KEYS, memoryLogger } from './helpers.js';

let sim: Simulator;
let redis: TestRedis;
let app: FastifyInstance;
let client: RedisClient;
const logged = memoryLogger('info');

beforeAll(async () => {
  [sim, redis] = await Promise.all([startTestSimulator(), startRedis({ appendonly: true })]);
  const config = apiConfig(redis, { ...sim.env(), API_AUTH_FAILURE_LIMIT: '1000/1m' });
  app = await buildApp(config, { logger: logged.logger });
  await app.ready();
  client = createRedis(config.redis);
});

afterAll(async () => {
  await app?.close();
  client?.disconnect();
  await Promise.all([sim?.close(), redis?.stop()]);
});

beforeEach(() => {
  sim.control({ permissions: { grant: Object.values(PERMISSIONS) } });
  sim.reset();
});

const graphRequests = () =>
  Object.values(sim.stats({ log: false }).requests.byMethod).reduce((a, b) => a + b, 0);

describe('GET /v1/preflight', () => {
  it('refuses no key, a wrong key, producer and viewer keys, and Basic auth; nothing reaches Graph', async () => {
    const tries: [Record<string, string>, number][] = [
      [{}, 401],
      [bearer('obk_not-a-real-key'), 401],
      [bearer(KEYS.producer), 403],
      [bearer(KEYS.viewer), 403],
      [{ 'x-api-key': KEYS.viewer }, 403],
      [{ authorization: `Basic ${Buffer.from(`x:${KEYS.operator}`).toString('base64')}` }, 401],
    ];
    for (const [headers, status] of tries) {
      const res = await app.inject({ url: '/v1/preflight?user=alice@contoso.com', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(status);
    }
    expect(graphRequests()).toBe(0);
    expect(sim.stats({ log: false }).token.requests).toBe(0);
    expect(await lastReport(client, redis.prefix)).toBeNull();
  });

  it('answers an operator with the checks, keeps the report for the console, sends only GETs', async () => {
    const res = await app.inject({
      url: '/v1/preflight?user=alice@contoso.com',
      headers: bearer(KEYS.operator),
    });
    expect(res.statusCode).toBe(200);
    const report = res.json() as PreflightReport;
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual([
      'token',
      'permissions',
      'read.entra-sweep',
      'read.inventory',
      'redis.reachable',
      'redis.eviction',
      'redis.persistence',
      'queues.paused',
      'circuit',
    ]);
    expect(report.checks.find((c) => c.id === 'read.inventory')?.detail).toContain('alice@contoso.com');
    const stats = sim.stats({ log: false });
    expect(Object.keys(stats.requests.byMethod)).toEqual(['GET']);
    expect(stats.graph.calls).toBe(0);
    const kept = await lastReport(client, redis.prefix);
    expect(kept).toMatchObject({ ok: true, actor: KEY_NAMES.operator });
    expect(JSON.stringify(logged.lines)).not.toContain(sim.clientSecret);
  });

  it('names a denied permission, and refuses a malformed user or an unknown parameter with 400', async () => {
    sim.control({ permissions: { deny: [PERMISSIONS.readDevices] } });
    const res = await app.inject({
      url: '/v1/preflight?user=alice@contoso.com',
      headers: bearer(KEYS.operator),
    });
    const report = res.json() as PreflightReport;
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.id === 'permissions')?.detail).toContain(PERMISSIONS.readDevices);

    sim.reset();
    for (const url of ['/v1/preflight?user=not%20a%20user', '/v1/preflight?user=a@b.com&write=1']) {
      const bad = await app.inject({ url, headers: bearer(KEYS.operator) });
      expect(bad.statusCode, url).toBe(400);
    }
    expect(graphRequests()).toBe(0);
  });
});
