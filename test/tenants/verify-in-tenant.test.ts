// Many tenants with evidence on: a leaver is inventoried, retired AND verified in its own tenant —
// the verification reads use that tenant's token (its authority, its `tid`) and its read budget,
// never the deployment's (this deployment has no AZURE_TENANT_ID at all, so a read sent with the
// deployment's provider would fail and the leaver would end unverified).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { getEvidence } from '../../src/evidence/store.js';
import { retireJobOptions } from '../../src/intake/enqueue.js';
import type { RetireJobData } from '../../src/interfaces.js';
import type { QueueContext } from '../../src/queue/context.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import {
  closeQueueContext,
  type InProcessWorker,
  openContext,
  startTestWorker,
  waitFor,
  waitForOutcomes,
} from '../helpers/worker.js';

const A = { name: 'alpha', id: '44444444-5555-4666-8777-888888888888' };
const B = { name: 'beta', id: '55555555-6666-4777-8888-999999999999' };

let redis: TestRedis;
let sim: TestSimulator;
let config: Config;
let ctx: QueueContext;
let worker: InProcessWorker;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator({ retireDelayMs: 200, tenants: { [A.id]: {}, [B.id]: {} } });
  const dir = mkdtempSync(join(tmpdir(), 'offboard-verify-tenant-'));
  const file = join(dir, 'tenants.yaml');
  writeFileSync(
    file,
    `tenants:\n  - { name: ${A.name}, id: ${A.id} }\n  - { name: ${B.name}, id: ${B.id} }\n`,
  );
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    ...sim.env(),
    TENANTS_FILE: file,
    EVIDENCE: 'on',
    GRAPH_READ_RATE_LIMIT: '1000/1s',
    VERIFY_AFTER: '1s',
  };
  delete env.AZURE_TENANT_ID;
  config = testConfig(env, { needAuth: true });
  ctx = openContext(config);
  worker = await startTestWorker(config);
});

afterAll(async () => {
  await worker?.close();
  if (ctx) await closeQueueContext(ctx);
  await sim?.close();
  await redis?.stop();
});

describe('verification in the leaver’s tenant', () => {
  it('reads with the tenant’s own token and ends verified', async () => {
    const user = 'two-devices@beta.example';
    sim.control({ devices: { [user]: 2 } });
    const data: RetireJobData = {
      user,
      dryRun: false,
      correlationId: randomUUID(),
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
      source: 'api',
      tenant: B.name,
    };
    const id = randomUUID();
    await ctx.retire.add('retire', data, retireJobOptions(ctx, id, data));
    const [outcome] = await waitForOutcomes(ctx, [id]);
    expect(['retired', 'no_devices']).toContain(outcome?.record?.outcome);
    if (outcome?.record?.outcome === 'no_devices')
      throw new Error('the simulator gave this leaver no devices');
    const evidence = await waitFor(
      async () => {
        const e = await getEvidence(ctx.redis, ctx.prefix, id);
        return e && e.verification.state !== 'pending' ? e : undefined;
      },
      { timeoutMs: 20_000, what: 'the verification to end' },
    );
    expect(evidence.tenant).toBe(B.name);
    expect(evidence.verification.state).toBe('verified');
    // Every call of this leaver (inventory, retire, verification) went to tenant beta, none to alpha.
    const stats = sim.stats({ log: false }).tenants ?? {};
    expect(stats[B.id]?.calls ?? 0).toBeGreaterThan(0);
    expect(stats[A.id]?.calls ?? 0).toBe(0);
  });
});
