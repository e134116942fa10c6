// Issue 9, items 6, 9 and 10, against the real API on loopback and a real Redis:
// - API_AUTH=disabled only on a loopback bind, and no cross-site actions in any mode;
// - failed authentications limited per client address, shared by replicas through Redis;
// - /readyz gives anonymous callers the circuit's code only.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { ConfigError } from '../../src/config/errors.js';
import { openCircuit } from '../../src/control/queue-control.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { runCli } from '../cli/run-cli.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { apiConfig, KEYS, liveApi } from './helpers.js';

let redis: TestRedis;
const running: RunningApi[] = [];
const contexts: QueueContext[] = [];
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
  await Promise.all(contexts.map((c) => closeQueueContext(c)));
  await redis.stop();
});

async function api(
  env: Record<string, string> = {},
): Promise<{ api: RunningApi; ctx: QueueContext; prefix: string }> {
  const prefix = `${redis.prefix}sa${++n}`;
  const a = await liveApi(redis, { QUEUE_PREFIX: prefix, ...env });
  running.push(a);
  const ctx = createQueueContext(apiConfig(redis, { QUEUE_PREFIX: prefix }));
  contexts.push(ctx);
  return { api: a, ctx, prefix };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { code: string; message: string }; reason?: string; [k: string]: unknown };
}

/** A real HTTP request from a chosen loopback source address (127.0.0.x are distinct clients). */
function call(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; from?: string } = {},
): Promise<Answer> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method,
        headers: opts.headers ?? {},
        localAddress: opts.from ?? '127.0.0.1',
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString('utf8');
        });
        res.on('end', () => {
          let body: Answer['body'] = {};
          try {
            body = JSON.parse(text) as Answer['body'];
          } catch {
            // non-JSON answers keep an empty body
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('item 6: API_AUTH=disabled and cross-site actions', () => {
  it('refuses API_AUTH=disabled on a non-loopback bind: config error, and `offboard api` exits 2', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}x`, API_AUTH: 'disabled' };
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'api.example.com']) {
      expect(() => testConfig({ ...env, API_HOST: host }, { needApi: true })).toThrow(
        /API_AUTH=disabled: only allowed when API_HOST is a loopback address/,
      );
    }
    // Default API_HOST is 0.0.0.0: refused too.
    expect(() => testConfig(env, { needApi: true })).toThrow(ConfigError);
    for (const host of ['127.0.0.1', '::1', '[::1]', 'localhost']) {
      expect(testConfig({ ...env, API_HOST: host }, { needApi: true }).api.authDisabled).toBe(true);
    }
    const r = await runCli(['api'], { ...env, API_HOST: '0.0.0.0', API_PORT: '0', LOG_LEVEL: 'info' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/API_AUTH=disabled.*API_HOST/);
  });

  it('with auth disabled on loopback, a cross-site pause is refused and nothing is paused', async () => {
    const { api: a, ctx } = await api({ API_AUTH: 'disabled', API_KEYS: '' });
    const evil = await call(a.url, 'POST', '/v1/queues/retire/pause', {
      headers: { origin: 'https://evil.example' },
    });
    expect(evil.status).toBe(403);
    expect(evil.body.error?.code).toBe('cross_site');
    const fetchMeta = await call(a.url, 'POST', '/v1/queues/retire/pause', {
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(fetchMeta.status).toBe(403);
    const nullOrigin = await call(a.url, 'POST', '/v1/queues/retire/pause', { headers: { origin: 'null' } });
    expect(nullOrigin.status).toBe(403);
    expect(await ctx.retire.isPaused()).toBe(false);
    // The API's own origin (its pages) and non-browser clients still act.
    const own = await call(a.url, 'POST', '/v1/queues/retire/pause', { headers: { origin: a.url } });
    expect(own.status).toBe(200);
    expect(await ctx.retire.isPaused()).toBe(true);
    const resume = await call(a.url, 'POST', '/v1/queues/retire/resume', {});
    expect(resume.status).toBe(200);
    expect(await ctx.retire.isPaused()).toBe(false);
  });

  it('with keys, a cross-site action carrying a valid operator key is refused too; reads are not', async () => {
    const { api: a, ctx } = await api();
    const evil = await call(a.url, 'POST', '/v1/queues/retire/pause', {
      headers: { ...bearer(KEYS.operator), origin: 'https://evil.example' },
    });
    expect(evil.status).toBe(403);
    expect(evil.body.error?.code).toBe('cross_site');
    const sub = await call(a.url, 'POST', '/v1/queues/retire/pause', {
      headers: { ...bearer(KEYS.operator), 'sec-fetch-site': 'cross-site', origin: a.url },
    });
    expect(sub.status).toBe(403);
    expect(await ctx.retire.isPaused()).toBe(false);
    const read = await call(a.url, 'GET', '/v1/queues', {
      headers: { ...bearer(KEYS.viewer), origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(read.status).toBe(200);
  });
});

describe('item 9: failed authentications per client address', () => {
  it('brute force from one address gets 429 with Retry-After; a valid key from another address still works; replicas share the count', async () => {
    const limit = { API_AUTH_FAILURE_LIMIT: '5/1m' };
    const { api: first, prefix } = await api(limit);
    // A second replica on the same Redis and prefix.
    const second = await liveApi(redis, { QUEUE_PREFIX: prefix, ...limit });
    running.push(second);
    const attacker = '127.0.0.2';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const replica = i % 2 === 0 ? first : second;
      statuses.push(
        (await call(replica.url, 'GET', '/v1/queues', { from: attacker, headers: bearer(`obk_guess-${i}`) }))
          .status,
      );
    }
    // The 5th failure reaches the limit and is already answered 429.
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses[4]).toBe(429);
    for (const replica of [first, second]) {
      const blocked = await call(replica.url, 'GET', '/v1/queues', {
        from: attacker,
        headers: bearer('obk_guess-more'),
      });
      expect(blocked.status).toBe(429);
      expect(blocked.body.error?.code).toBe('auth_rate_limited');
      const retry = Number(blocked.headers['retry-after']);
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(60);
      // Only failures are throttled (issue 19 item 5): a valid key from the same address is served.
      const right = await call(replica.url, 'GET', '/v1/queues', {
        from: attacker,
        headers: bearer(KEYS.viewer),
      });
      expect(right.status).toBe(200);
    }
    // Another address is not affected.
    const other = await call(first.url, 'GET', '/v1/queues', {
      from: '127.0.0.3',
      headers: bearer(KEYS.viewer),
    });
    expect(other.status).toBe(200);
    // Public routes stay reachable for probes from the blocked address.
    expect((await call(first.url, 'GET', '/healthz', { from: attacker })).status).toBe(200);
  });
});

describe('item 10: /readyz does not tell strangers why the circuit is open', () => {
  it('anonymous and producer callers get the code; viewer and operator keys get the reason; it stays ready', async () => {
    const { api: a, ctx } = await api();
    await openCircuit(ctx, {
      code: 'invalid_client',
      reason: 'AADSTS7000215: Invalid client secret provided for app 11111111-2222',
    });
    const anon = await call(a.url, 'GET', '/readyz');
    // Issue 19 item 7: an open circuit no longer takes the API out of service.
    expect(anon.status).toBe(200);
    expect(anon.body.reason).toBe('circuit open (invalid_client)');
    expect(JSON.stringify(anon.body)).not.toMatch(/AADSTS|Invalid client secret|11111111/);
    for (const key of [KEYS.producer, 'obk_wrong-key']) {
      const r = await call(a.url, 'GET', '/readyz', { headers: bearer(key) });
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body)).not.toContain('AADSTS');
    }
    for (const key of [KEYS.viewer, KEYS.operator]) {
      const r = await call(a.url, 'GET', '/readyz', { headers: bearer(key) });
      expect(r.status).toBe(200);
      expect(r.body.reason).toContain('AADSTS7000215');
    }
  });
});
