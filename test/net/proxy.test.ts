// Outbound HTTP honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY: a real worker process (`node dist/cli.js
// worker`) signs in to the Entra fake (https, through a CONNECT tunnel) and calls the Graph fake
// (http, forwarded) through a tiny counting proxy on loopback; with NO_PROXY=127.0.0.1 it bypasses it.
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installProxyFromEnv, proxyVariables } from '../../src/net/proxy.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import {
  closeQueueContext,
  enqueueUsers,
  openContext,
  spawnTestWorker,
  uniquePrefix,
  waitForOutcomes,
  workerConfig,
  workerEnv,
} from '../helpers/worker.js';

interface CountingProxy {
  url: string;
  /** `CONNECT host:port` tunnels and absolute-URI requests (`GET host:port`) seen. */
  seen: string[];
  close(): Promise<void>;
}

async function startProxy(): Promise<CountingProxy> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    const target = new URL(req.url ?? '');
    seen.push(`${req.method} ${target.host}`);
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = String(req.url).split(':');
    const upstream = connect(Number(port), host as string, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let redis: TestRedis;
let sim: TestSimulator;
let proxy: CountingProxy;

beforeAll(async () => {
  [redis, sim, proxy] = await Promise.all([startRedis(), startTestSimulator(), startProxy()]);
});
afterAll(async () => {
  await Promise.all([proxy?.close(), sim?.close(), redis?.stop()]);
});

async function retireThroughWorker(user: string, env: Record<string, string>): Promise<void> {
  const prefix = uniquePrefix(`${redis.prefix}proxy`);
  const workerEnvironment = workerEnv(redis, sim, prefix, env);
  const ctx = openContext(workerConfig(redis, sim, prefix));
  const worker = spawnTestWorker(`proxy-${user.split('@')[0]}`, workerEnvironment);
  try {
    await worker.waitForOutput(/worker started/);
    const [id] = await enqueueUsers(ctx, [user]);
    const [outcome] = await waitForOutcomes(ctx, [id as string]);
    expect(outcome?.record?.outcome, worker.output()).toBe('retired');
  } finally {
    await worker.stop();
    await closeQueueContext(ctx);
  }
}

describe('outbound proxy', () => {
  it('sends token requests (CONNECT) and Graph calls through HTTPS_PROXY / HTTP_PROXY', async () => {
    const before = proxy.seen.length;
    const graphBefore = sim.stats().graph.calls;
    await retireThroughWorker('proxied@contoso.com', { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
    const seen = proxy.seen.slice(before);
    expect(seen).toContain(`CONNECT ${sim.authorityHostAndPort}`);
    // Graph (plain http here) goes through the proxy too: undici tunnels it with CONNECT as well.
    const graphHost = new URL(sim.graphBaseUrl).host;
    expect(seen).toContain(`CONNECT ${graphHost}`);
    expect(sim.stats().graph.calls).toBeGreaterThan(graphBefore);
    expect(sim.stats().graph.successByUser['proxied@contoso.com']).toBe(1);
  });

  it('bypasses the proxy for hosts in NO_PROXY', async () => {
    const before = proxy.seen.length;
    const tokensBefore = sim.stats().token.requests;
    await retireThroughWorker('direct@contoso.com', {
      HTTPS_PROXY: proxy.url,
      HTTP_PROXY: proxy.url,
      NO_PROXY: 'localhost,127.0.0.1',
    });
    expect(proxy.seen.slice(before)).toEqual([]);
    expect(sim.stats().token.requests).toBeGreaterThan(tokensBefore);
    expect(sim.stats().graph.successByUser['direct@contoso.com']).toBe(1);
  });

  it('installs nothing without a proxy variable', async () => {
    expect(proxyVariables({ NO_PROXY: '127.0.0.1' })).toEqual([]);
    expect(await installProxyFromEnv({ NO_PROXY: '127.0.0.1' })).toBeUndefined();
    expect(proxyVariables({ https_proxy: 'http://p:3128', HTTP_PROXY: '' })).toEqual(['https_proxy']);
  });
});
