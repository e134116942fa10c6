// Hostile input over real HTTP: over a thousand generated malformed requests must each get a 4xx
// JSON error, the server must stay healthy, and nothing may be enqueued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { keys } from '../../src/queue/names.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { apiConfig, KEYS, liveApi } from './helpers.js';
import { type Probe, probes } from './hostile-inputs.js';

let redis: TestRedis;
let api: RunningApi;
let ctx: QueueContext;

beforeAll(async () => {
  redis = await startRedis();
  api = await liveApi(redis);
  ctx = createQueueContext(apiConfig(redis));
});
afterAll(async () => {
  await api.close();
  await closeQueueContext(ctx);
  await redis.stop();
});

async function send(p: Probe): Promise<{ status: number; body: string; type: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${p.key ?? KEYS.producer}` };
  if (p.body !== undefined) headers['content-type'] = p.contentType ?? 'application/json';
  const res = await fetch(`${api.url}${p.path}`, { method: p.method, headers, body: p.body });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

describe('hostile input', () => {
  it('answers every malformed request with a 4xx JSON error and enqueues nothing', async () => {
    const list = probes();
    expect(list.filter((p) => p.body !== undefined).length).toBeGreaterThanOrEqual(1000);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const queue = [...list];
    // A few requests in flight at a time, like a misbehaving client pool.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const r = await send(p);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          let code: unknown;
          try {
            code = (JSON.parse(r.body) as { error?: { code?: unknown } }).error?.code;
          } catch {
            code = undefined;
          }
          if (
            r.status < 400 ||
            r.status >= 500 ||
            !/^application\/(problem\+)?json/.test(r.type) ||
            typeof code !== 'string'
          ) {
            failures.push(
              `${p.method} ${p.path.slice(0, 80)} ${String(p.body).slice(0, 80)} → ${r.status} ${r.body.slice(0, 120)}`,
            );
          }
        }
      }),
    );
    expect(failures.slice(0, 20)).toEqual([]);
    // The refusals are the specific ones, not a blanket answer.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(900);
    expect(statuses.get(413)).toBeGreaterThanOrEqual(1);
    expect(statuses.get(415)).toBeGreaterThanOrEqual(1);

    const health = await fetch(`${api.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(200);
    const counts = await ctx.retire.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await ctx.redis.xlen(keys.audit(ctx.prefix))).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // Still works for a well-formed request afterwards.
    const ok = await send({
      method: 'POST',
      path: '/v1/offboardings',
      body: JSON.stringify({ user: 'after@contoso.com' }),
    });
    expect(ok.status).toBe(202);
    expect(await ctx.retire.count()).toBe(1);
  });
});
