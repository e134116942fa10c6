import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { removeAllDevicesFromManagement } from '../../src/graph/client.js';
import {
  GraphBadRequestError,
  GraphForbiddenError,
  GraphNotFoundError,
  GraphThrottledError,
  GraphTimeoutError,
  GraphTransientError,
} from '../../src/graph/errors.js';
import type { SimStats } from '../../src/sim/types.js';
import { fetchAppToken, startTestSimulator, type TestSimulator } from '../helpers/sim.js';

let sim: TestSimulator;
let token: string;

beforeAll(async () => {
  sim = await startTestSimulator();
  token = await fetchAppToken(sim);
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.control({ latencyMs: 0, outage: null, hangAll: false });
  sim.reset();
});

function call(user: string, timeoutMs = 5000) {
  return removeAllDevicesFromManagement({ baseUrl: sim.graphBaseUrl, user, token, timeoutMs });
}
function fail(user: string, timeoutMs = 5000): Promise<unknown> {
  return call(user, timeoutMs).then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
}

describe('Graph fake: per-user behaviour', () => {
  it('succeeds for ordinary UPNs and GUIDs with request ids', async () => {
    const result = await call('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(result.status).toBe(204);
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
    await call('ann@contoso.com');
    expect(sim.stats().graph.successByUser).toEqual({
      '0f8fad5b-d9cb-469f-a165-70867728950e': 1,
      'ann@contoso.com': 1,
    });
  });

  it('decodes the $ key form and quotes', async () => {
    await call("$o'neil@contoso.com");
    await call('a#b@contoso.com');
    expect(Object.keys(sim.stats().graph.byUser).sort()).toEqual(["$o'neil@contoso.com", 'a#b@contoso.com']);
  });

  it('answers 404, 403 and 400 with Graph codes', async () => {
    const nf = await fail('notfound-1@contoso.com');
    expect(nf).toBeInstanceOf(GraphNotFoundError);
    expect(nf).toMatchObject({ code: 'Request_ResourceNotFound' });
    expect(await fail('forbidden-1@contoso.com')).toBeInstanceOf(GraphForbiddenError);
    expect(await fail('badrequest-1@contoso.com')).toBeInstanceOf(GraphBadRequestError);
  });

  it('flaky users fail twice with 503 (Intune JSON-in-message) then succeed', async () => {
    const first = (await fail('flaky-1@contoso.com')) as GraphTransientError;
    expect(first).toBeInstanceOf(GraphTransientError);
    expect(first.status).toBe(503);
    expect(first.graphMessage).toMatch(/^An error has occurred - Operation ID/);
    expect(await fail('flaky-1@contoso.com')).toBeInstanceOf(GraphTransientError);
    expect((await call('flaky-1@contoso.com')).status).toBe(204);
  });

  it('throttle users get 429 Retry-After 1 once; honouring it is not a violation', async () => {
    const err = (await fail('throttle-1@contoso.com')) as GraphThrottledError;
    expect(err).toBeInstanceOf(GraphThrottledError);
    expect(err.retryAfterMs).toBe(1000);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await call('throttle-1@contoso.com')).status).toBe(204);
    expect(sim.stats().graph).toMatchObject({ throttled: 1, insideRetryAfterWindow: 0 });
  });

  it('hang users never get a first answer, then succeed', async () => {
    const err = (await fail('hang-1@contoso.com', 300)) as GraphTimeoutError;
    expect(err).toBeInstanceOf(GraphTimeoutError);
    expect((await call('hang-1@contoso.com')).status).toBe(204);
    await waitFor(() => sim.stats().graph.byStatus.hang === 1);
  });

  it('plays scripts in order, then answers 204', async () => {
    sim.control({
      script: {
        'ann@contoso.com': [500, { status: 429, retryAfter: '0.25' }, { status: 204, delayMs: 100 }],
      },
    });
    expect(await fail('ann@contoso.com')).toMatchObject({ status: 500 });
    const throttled = (await fail('ann@contoso.com')) as GraphThrottledError;
    expect(throttled.retryAfterMs).toBe(250);
    await new Promise((r) => setTimeout(r, 260));
    const slow = await call('ann@contoso.com');
    expect(slow.durationMs).toBeGreaterThanOrEqual(90);
    expect((await call('ann@contoso.com')).status).toBe(204);
    expect(sim.stats().graph.byStatus).toEqual({ '500': 1, '429': 1, '204': 2 });
  });
});

describe('Graph fake: global controls', () => {
  it('outage answers every call with the status and Retry-After, then ends', async () => {
    sim.control({ outage: { status: 503, retryAfter: '2' } });
    const err = (await fail('ann@contoso.com')) as GraphTransientError;
    expect(err).toBeInstanceOf(GraphTransientError);
    expect(err.retryAfterMs).toBe(2000);
    sim.control({ outage: { status: 504 } });
    expect(await fail('bob@contoso.com')).toMatchObject({ status: 504 });
    sim.control({ outage: null });
    expect((await call('ann@contoso.com')).status).toBe(204);
  });

  it('hangAll holds every call open', async () => {
    sim.control({ hangAll: true });
    expect(await fail('ann@contoso.com', 200)).toBeInstanceOf(GraphTimeoutError);
    sim.control({ hangAll: false });
    expect((await call('ann@contoso.com')).status).toBe(204);
  });

  it('adds latency and tracks concurrency', async () => {
    sim.control({ latencyMs: 400 });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => call(`u${i}@contoso.com`)));
    expect(Math.min(...results.map((r) => r.durationMs))).toBeGreaterThanOrEqual(390);
    expect(sim.stats().graph.maxConcurrent).toBe(5);
  });

  it('refuses unknown paths and other methods', async () => {
    const unknown = await fetch(`${sim.graphBaseUrl}/users/ann%40contoso.com/wipe`, { method: 'POST' });
    expect(unknown.status).toBe(400);
    const get = await fetch(`${sim.graphBaseUrl}/users/ann%40contoso.com/removeAllDevicesFromManagement`);
    expect(get.status).toBe(405);
    expect(((await get.json()) as { error: { code: string } }).error.code).toBe('BadRequest');
  });
});

describe('control and stats over HTTP', () => {
  it('serves stats, applies control, validates it, and resets', async () => {
    await call('ann@contoso.com');
    const stats = (await (await fetch(`${sim.controlUrl}/stats`)).json()) as SimStats;
    expect(stats.graph).toMatchObject({ calls: 1, byUser: { 'ann@contoso.com': 1 }, byStatus: { '204': 1 } });
    expect(stats.graph.log).toHaveLength(1);
    expect(stats.graph.log[0]).toMatchObject({ user: 'ann@contoso.com', status: 204 });
    expect(stats.token).toMatchObject({ requests: 0, issued: 0 });
    const noLog = (await (await fetch(`${sim.controlUrl}/stats?log=0`)).json()) as SimStats;
    expect(noLog.graph.log).toEqual([]);

    const post = (path: string, body?: unknown) =>
      fetch(`${sim.controlUrl}/${path}`, {
        method: 'POST',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await post('control', { outage: { status: 502 } })).status).toBe(200);
    expect(await fail('ann@contoso.com')).toMatchObject({ status: 502 });
    expect((await post('control', { outage: null })).status).toBe(200);
    const bad = await post('control', { latencyMs: -1, bogus: true });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_control');
    expect(() => sim.control({ limit: { limit: 0, windowMs: 10 } })).toThrow(/limit/);
    expect((await post('reset')).status).toBe(200);
    expect(sim.stats().graph.calls).toBe(0);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
