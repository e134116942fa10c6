// Redis stopped → intake answers 503 quickly (never a 202 that was not stored), readiness fails,
// liveness and metrics still answer; Redis back → the same API process works again by itself.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { closeQueueContext, createQueueContext } from '../../src/queue/context.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { apiConfig, KEYS, liveApi, pollUntil } from './helpers.js';

let redis: TestRedis;
let api: RunningApi;

beforeAll(async () => {
  redis = await startRedis();
  api = await liveApi(redis);
});
afterAll(async () => {
  await api.close();
  await redis.stop();
});

const post = (base: string, user: string) =>
  fetch(`${base}/v1/offboardings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.producer}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
  });

const offboard = (user: string) =>
  fetch(`${api.url}/v1/offboardings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.producer}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
  });

describe('Redis outage', () => {
  it('answers 503 while Redis is down and recovers without restarting the API', async () => {
    expect((await offboard('before@contoso.com')).status).toBe(202);

    await redis.kill();
    const started = Date.now();
    const down = await offboard('during@contoso.com');
    const tookMs = Date.now() - started;
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(((await down.json()) as { error: { code: string } }).error.code).toBe('redis_unavailable');
    // Fails fast: the client knows it lost the connection; no waiting for reconnect attempts.
    expect(tookMs).toBeLessThan(5_000);

    const batch = await fetch(`${api.url}/v1/offboardings/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.producer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ user: 'batch-during@contoso.com' }] }),
    });
    expect(batch.status).toBe(503);
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'not_ready',
      reason: 'redis unreachable',
      checks: { redis: 'unreachable' },
    });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    const metrics = await fetch(`${api.url}/metrics`, {
      headers: { authorization: `Bearer ${KEYS.viewer}` },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^offboard_redis_up 0$/m);
    const queues = await fetch(`${api.url}/v1/queues`, {
      headers: { authorization: `Bearer ${KEYS.viewer}` },
    });
    expect(queues.status).toBe(503);

    await redis.start();
    const back = await pollUntil(
      () => offboard('after@contoso.com'),
      (r) => r.status !== 503,
      30_000,
    );
    expect(back.status).toBe(202);
    await pollUntil(
      () => fetch(`${api.url}/readyz`),
      (r) => r.status === 200,
    );
    // Nothing was stored for the 503s: the restarted (empty) Redis holds only the job after recovery.
    const ctx = createQueueContext(apiConfig(redis));
    try {
      const jobs = await ctx.retire.getJobs(['waiting']);
      expect(jobs.map((j) => j.data.user)).toEqual(['after@contoso.com']);
    } finally {
      await closeQueueContext(ctx);
    }
  }, 90_000);

  it('answers 503 (timeout) when Redis stops answering on an open connection, and recovers', async () => {
    const stalled = await liveApi(redis, {}, { handlerTimeoutMs: 1500 });
    const probe = new Redis(redis.url);
    const pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
    probe.disconnect();
    expect(pid).toBeGreaterThan(0);
    try {
      expect((await post(stalled.url, 'stall-before@contoso.com')).status).toBe(202);
      process.kill(pid, 'SIGSTOP');
      const res = await post(stalled.url, 'stall-during@contoso.com');
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('timeout');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The stalled request may complete once Redis answers again; a retry is then a duplicate, never lost.
    const retry = await pollUntil(
      () => post(stalled.url, 'stall-during@contoso.com'),
      (r) => r.status !== 503,
    );
    expect([200, 202]).toContain(retry.status);
    await stalled.close();
  }, 60_000);
});
