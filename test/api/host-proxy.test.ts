// Issue 19 items 3, 5 and 7 against the real API on loopback HTTP and a real Redis:
// - DNS rebinding: a Host that is not an allowed name is refused (421) in every auth mode and on
//   every route but the probes, even with a matching Origin and Sec-Fetch-Site: same-origin;
// - API_TRUSTED_PROXIES: X-Forwarded-For names the client only through those proxies, and the
//   failed-auth limit throttles failures only, never a valid key;
// - /readyz stays ready while the circuit is open; the circuit is reported elsewhere.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownAddresses } from '../../src/api/auth/host.js';
import type { RunningApi } from '../../src/api/server.js';
import { ConfigError } from '../../src/config/errors.js';
import { openCircuit } from '../../src/control/queue-control.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { runCli } from '../cli/run-cli.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { apiConfig, bearer, KEYS, liveApi } from './helpers.js';

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

async function api(env: Record<string, string> = {}): Promise<{ api: RunningApi; ctx: QueueContext }> {
  const prefix = `${redis.prefix}hp${++n}`;
  const a = await liveApi(redis, { QUEUE_PREFIX: prefix, ...env });
  running.push(a);
  const ctx = createQueueContext(apiConfig(redis, { QUEUE_PREFIX: prefix }));
  contexts.push(ctx);
  return { api: a, ctx };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: { error?: { code: string; message: string }; [k: string]: unknown };
}

/** A real HTTP request with a chosen Host header and source address. */
function call(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; from?: string; json?: unknown } = {},
): Promise<Answer> {
  const u = new URL(path, base);
  const payload = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(opts.headers ?? {}),
        },
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
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** What a rebinding page in the victim's browser sends: its own name as Host and Origin. */
function rebound(port: string): Record<string, string> {
  const host = `rebind.attacker.example:${port}`;
  return { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' };
}

describe('item 3: Host allowlist (DNS rebinding)', () => {
  it('API_AUTH=disabled: a rebinding page can neither submit, export evidence nor pause; nothing changes', async () => {
    const { api: a, ctx } = await api({ API_AUTH: 'disabled', API_KEYS: '' });
    const port = new URL(a.url).port;
    const attack = rebound(port);
    const submit = await call(a.url, 'POST', '/v1/offboardings', {
      headers: attack,
      json: { user: 'victim@contoso.com' },
    });
    expect(submit.status).toBe(421);
    expect(submit.body.error?.code).toBe('host_not_allowed');
    const evidence = await call(a.url, 'GET', '/v1/evidence', { headers: attack });
    expect(evidence.status).toBe(421);
    expect(evidence.text).not.toContain('deviceName');
    const pause = await call(a.url, 'POST', '/v1/queues/retire/pause', { headers: attack });
    expect(pause.status).toBe(421);
    // Every other surface too: console, dashboard, docs, metrics, an unknown route.
    for (const path of [
      '/console',
      '/console/sign-in',
      '/dashboard/viewer',
      '/docs',
      '/docs/json',
      '/metrics',
      '/v1/queues',
      '/nope',
    ]) {
      const r = await call(a.url, 'GET', path, { headers: attack });
      expect(r.status, path).toBe(421);
      expect(r.body.error?.code, path).toBe('host_not_allowed');
    }
    expect(await ctx.retire.count()).toBe(0);
    expect(await ctx.retire.isPaused()).toBe(false);
    // The probes answer whatever the Host (kubelet sends the pod IP), and reveal nothing more.
    for (const path of ['/healthz', '/readyz']) {
      expect((await call(a.url, 'GET', path, { headers: { host: `10.1.2.3:${port}` } })).status, path).toBe(
        200,
      );
    }
    // The loopback names, with or without a port, are served.
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      'localhost',
      `[::1]:${port}`,
      'LOCALHOST',
    ]) {
      const r = await call(a.url, 'GET', '/v1/queues', { headers: { host } });
      expect(r.status, host).toBe(200);
    }
    const own = await call(a.url, 'POST', '/v1/offboardings', {
      headers: {
        host: `localhost:${port}`,
        origin: `http://localhost:${port}`,
        'sec-fetch-site': 'same-origin',
      },
      json: { user: 'leaver@contoso.com' },
    });
    expect(own.status).toBe(202);
    expect(await ctx.retire.count()).toBe(1);
  });

  it('with keys: a valid key through a rebinding name is refused too; API_PUBLIC_HOSTS names are served', async () => {
    const { api: a, ctx } = await api({ API_PUBLIC_HOSTS: 'offboard.contoso.com, Offboard-API' });
    const port = new URL(a.url).port;
    const evil = await call(a.url, 'POST', '/v1/offboardings', {
      headers: { ...rebound(port), ...bearer(KEYS.producer) },
      json: { user: 'victim@contoso.com' },
    });
    expect(evil.status).toBe(421);
    // A look-alike (suffix, port-only change of name) is not the allowed name.
    for (const host of [
      'offboard.contoso.com.attacker.example',
      'evil-offboard.contoso.com',
      'attacker.example:443',
    ]) {
      const r = await call(a.url, 'GET', '/v1/queues', { headers: { host, ...bearer(KEYS.viewer) } });
      expect(r.status, host).toBe(421);
    }
    expect(await ctx.retire.count()).toBe(0);
    // The pod's own IP (what Prometheus and kubelet send) is served: rebinding needs a name.
    const own = ownAddresses().find((a) => !a.startsWith('127.') && a !== '[::1]');
    const mine = own ? [`${own}:${port}`] : [];
    for (const host of ['offboard.contoso.com', 'offboard.contoso.com:443', 'offboard-api:8080', ...mine]) {
      const r = await call(a.url, 'GET', '/v1/queues', { headers: { host, ...bearer(KEYS.viewer) } });
      expect(r.status, host).toBe(200);
    }
  });

  it('API_PUBLIC_HOSTS and API_TRUSTED_PROXIES are validated at start: clear error, exit 2', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}cfg`, API_KEYS: '' };
    expect(() => testConfig({ ...env, API_PUBLIC_HOSTS: 'https://offboard.contoso.com' })).toThrow(
      /API_PUBLIC_HOSTS: entry 1 must be a host name/,
    );
    expect(() => testConfig({ ...env, API_PUBLIC_HOSTS: 'ok.example,bad host' })).toThrow(/entry 2/);
    expect(() => testConfig({ ...env, API_TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(
      /API_TRUSTED_PROXIES: entry 1 must be an IP address or CIDR range/,
    );
    expect(() => testConfig({ ...env, API_TRUSTED_PROXIES: '10.0.0.0/8,nonsense' })).toThrow(ConfigError);
    const ok = testConfig({
      ...env,
      API_PUBLIC_HOSTS: 'A.Example, b.example ,[::2]',
      API_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8,192.0.2.1',
    });
    expect(ok.api.publicHosts).toEqual(['a.example', 'b.example', '[::2]']);
    expect(ok.api.trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8', '192.0.2.1/32']);
    const r = await runCli(['api'], {
      ...env,
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      API_AUTH: 'disabled',
      API_PUBLIC_HOSTS: 'http://x',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/API_PUBLIC_HOSTS/);
  });
});

describe('item 5: trusted proxies and the failed-auth limit', () => {
  it('30 wrong keys from one address: its failures get 429, its valid key still gets 200', async () => {
    const { api: a } = await api();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push(
        (await call(a.url, 'GET', '/v1/queues', { from: '127.0.0.4', headers: bearer(`obk_guess-${i}`) }))
          .status,
      );
    }
    expect(statuses.slice(0, 19).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual(new Array(10).fill(429));
    const valid = await call(a.url, 'GET', '/v1/queues', { from: '127.0.0.4', headers: bearer(KEYS.viewer) });
    expect(valid.status).toBe(200);
    expect(
      (await call(a.url, 'GET', '/v1/queues', { from: '127.0.0.4', headers: bearer('obk_again') })).status,
    ).toBe(429);
  });

  it('behind a trusted proxy each client is counted apart; an untrusted peer cannot escape its budget by forging X-Forwarded-For', async () => {
    const proxy = '127.0.0.2';
    const { api: a } = await api({ API_TRUSTED_PROXIES: `${proxy}/32`, API_AUTH_FAILURE_LIMIT: '5/1m' });
    const via = (client: string, key: string) =>
      call(a.url, 'GET', '/v1/queues', {
        from: proxy,
        headers: { 'x-forwarded-for': client, ...bearer(key) },
      });
    for (let i = 0; i < 8; i++) await via('203.0.113.9', `obk_bad-${i}`);
    expect((await via('203.0.113.9', 'obk_bad-more')).status).toBe(429);
    // Another client behind the same ingress is not locked out, neither with a key nor a typo.
    expect((await via('198.51.100.7', KEYS.producer.replace('producer', 'nope'))).status).toBe(401);
    expect((await via('198.51.100.7', KEYS.viewer)).status).toBe(200);
    // The noisy client's own valid key still works.
    expect((await via('203.0.113.9', KEYS.viewer)).status).toBe(200);

    // Not a trusted proxy: X-Forwarded-For is ignored, the peer address is counted.
    const untrusted = '127.0.0.3';
    for (let i = 0; i < 6; i++) {
      await call(a.url, 'GET', '/v1/queues', {
        from: untrusted,
        headers: { 'x-forwarded-for': `192.0.2.${i}`, ...bearer(`obk_spoof-${i}`) },
      });
    }
    const spoof = await call(a.url, 'GET', '/v1/queues', {
      from: untrusted,
      headers: { 'x-forwarded-for': '192.0.2.200', ...bearer('obk_spoof-last') },
    });
    expect(spoof.status).toBe(429);
  });
});

describe('item 7: /readyz is not tied to the circuit', () => {
  it('stays 200 while the circuit is open; /v1/queues and /metrics report the circuit', async () => {
    const { api: a, ctx } = await api();
    await openCircuit(ctx, { code: 'invalid_client', reason: 'AADSTS7000215: invalid client secret' });
    const ready = await call(a.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', checks: { redis: 'ok', circuit: 'open' } });
    const queues = await call(a.url, 'GET', '/v1/queues', { headers: bearer(KEYS.viewer) });
    expect(queues.status).toBe(200);
    expect(queues.text).toContain('invalid_client');
    const metrics = await call(a.url, 'GET', '/metrics', { headers: bearer(KEYS.viewer) });
    expect(metrics.text).toMatch(/^offboard_circuit_open\{code="invalid_client"\} 1$/m);
    // The console still serves while the circuit is open.
    expect((await call(a.url, 'GET', '/console/sign-in')).status).toBe(200);
  });
});
