// A worker with a TENANTS_FILE asks every tenant's authority for a token when it starts, before any
// job of that tenant arrives (a small tenant's first leaver then does not wait for MSAL's first
// contact), without a Graph call; a tenant whose token fails is only logged: its circuit stays closed
// until a job meets the failure on the job path.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tenantKeys } from '../../src/tenants/registry.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import {
  closeQueueContext,
  type InProcessWorker,
  openContext,
  startTestWorker,
  waitFor,
} from '../helpers/worker.js';

const A = { name: 'alpha', id: '46444444-5555-4666-8777-888888888888' };
const B = { name: 'beta', id: '56555555-6666-4777-8888-999999999999' };
const C = { name: 'gamma', id: '66555555-6666-4777-8888-999999999999' };

let redis: TestRedis;
let sim: TestSimulator;
let worker: InProcessWorker | undefined;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator({
    tenants: { [A.id]: {}, [B.id]: {}, [C.id]: { consent: 'consentRequired' } },
  });
});
afterAll(async () => {
  await worker?.close();
  await sim?.close();
  await redis?.stop();
});

it('fetches every tenant token at start, without a Graph call, and trips no circuit on a failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'offboard-warm-'));
  const file = join(dir, 'tenants.yaml');
  writeFileSync(
    file,
    `tenants:\n${[A, B, C].map((t) => `  - { name: ${t.name}, id: ${t.id} }`).join('\n')}\n`,
  );
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    ...sim.env(),
    TENANTS_FILE: file,
  };
  delete env.AZURE_TENANT_ID;
  const config = testConfig(env, { needAuth: true });
  worker = await startTestWorker(config);
  const issued = (id: string) => sim.stats().tenants?.[id]?.token.issued ?? 0;
  await waitFor(async () => issued(A.id) >= 1 && issued(B.id) >= 1, { what: 'both healthy tenants warmed' });
  await waitFor(async () => (sim.stats().tenants?.[C.id]?.token.failures ?? 0) >= 1, {
    what: 'the tenant without consent asked',
  });
  expect(sim.stats().graph.calls).toBe(0);
  const ctx = openContext(config);
  try {
    expect(await ctx.redis.exists(tenantKeys.circuit(ctx.prefix, C.name))).toBe(0);
  } finally {
    await closeQueueContext(ctx);
  }
});
