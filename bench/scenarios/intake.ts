// 3. Intake: N items through `POST /v1/offboardings/batch` (the API process: validation, dedupe,
// audit) vs one raw `queue.addBulk` of the same jobs (same data and options) from the bench process.
import { randomUUID } from 'node:crypto';
import { retireJobOptions } from '../../src/intake/enqueue.js';
import type { RetireJobData } from '../../src/interfaces.js';
import { startSimulator } from '../../src/sim/index.js';
import { startApiProcess } from '../lib/api.js';
import { type Figure, figure, repeat, type Scenario, type ScenarioEnv } from '../lib/figures.js';
import { startBenchRedis } from '../lib/redis.js';
import { summarize } from '../lib/stats.js';
import { closeQueueContext, freshPrefix, leavers, openContext, systemEnv } from '../lib/system.js';

const S = '3 intake';

interface Rep {
  apiItemsPerSec: number;
  rawItemsPerSec: number;
  ratio: number;
  apiMs: number;
  rawMs: number;
}

export class IntakeMismatchError extends Error {
  override readonly name = 'IntakeMismatchError';
}

export const intake: Scenario = {
  id: 'intake',
  title: 'Intake: batch API vs raw addBulk',
  async run(env: ScenarioEnv) {
    const n = env.mode === 'quick' ? 2000 : 10_000;
    const redis = await startBenchRedis();
    // The API never calls Graph; the simulator only fills in the Graph/Azure settings of the env.
    const sim = await startSimulator({ latencyMs: 0, limit: null });
    const apiEnv = systemEnv({
      redisUrl: redis.url,
      prefix: freshPrefix('intake-api'),
      sim,
      concurrency: 10,
    });
    const api = await startApiProcess(apiEnv);
    const apiCtx = openContext(apiEnv);
    const rawCtx = openContext(
      systemEnv({ redisUrl: redis.url, prefix: freshPrefix('intake-raw'), sim, concurrency: 10 }),
    );
    const reps: Rep[] = [];
    try {
      // Warm-up: JIT, connections and Lua script loading for both paths.
      await postBatch(api.url, api.headers, leavers(50));
      await rawAdd(rawCtx, leavers(50));
      await repeat(env, S, async (_rep, flip) => {
        let apiMs = 0;
        let rawMs = 0;
        for (const path of flip ? ['raw', 'api'] : ['api', 'raw']) {
          if (path === 'api') {
            const before = await apiCtx.retire.getWaitingCount();
            apiMs = await postBatch(api.url, api.headers, leavers(n));
            const added = (await apiCtx.retire.getWaitingCount()) - before;
            if (added !== n) throw new IntakeMismatchError(`batch API enqueued ${added} of ${n}`);
          } else {
            const before = await rawCtx.retire.getWaitingCount();
            rawMs = await rawAdd(rawCtx, leavers(n));
            const added = (await rawCtx.retire.getWaitingCount()) - before;
            if (added !== n) throw new IntakeMismatchError(`addBulk enqueued ${added} of ${n}`);
          }
        }
        const rep: Rep = {
          apiMs,
          rawMs,
          apiItemsPerSec: (n / apiMs) * 1000,
          rawItemsPerSec: (n / rawMs) * 1000,
          ratio: rawMs / apiMs,
        };
        env.log(
          `    n=${n}: batch API ${rep.apiItemsPerSec.toFixed(0)} items/s (${apiMs.toFixed(0)} ms), ` +
            `addBulk ${rep.rawItemsPerSec.toFixed(0)} items/s (${rawMs.toFixed(0)} ms), ratio ${rep.ratio.toFixed(3)}`,
        );
        reps.push(rep);
      });
    } finally {
      await closeQueueContext(apiCtx);
      await closeQueueContext(rawCtx);
      await api.stop();
      await sim.close();
      await redis.stop();
    }
    const figures: Figure[] = [
      figure(
        S,
        `POST /v1/offboardings/batch, ${n} items`,
        'items/s',
        summarize(reps.map((r) => r.apiItemsPerSec)),
      ),
      figure(S, `raw queue.addBulk, ${n} jobs`, 'items/s', summarize(reps.map((r) => r.rawItemsPerSec))),
      figure(S, 'ratio batch API ÷ raw addBulk', 'x', summarize(reps.map((r) => r.ratio)), {
        op: '>=',
        value: 0.5,
      }),
    ];
    return { figures, details: { n, reps } };
  },
};

/** Client's view: from sending the request to having read the per-item results. */
async function postBatch(url: string, headers: Record<string, string>, users: string[]): Promise<number> {
  const body = JSON.stringify({ items: users.map((user) => ({ user })) });
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/offboardings/batch`, { method: 'POST', headers, body });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status >= 300)
    throw new IntakeMismatchError(`batch API answered ${res.status}: ${text.slice(0, 300)}`);
  return ms;
}

/** The same job data and options the intake library builds, prepared before the clock starts. */
async function rawAdd(ctx: ReturnType<typeof openContext>, users: string[]): Promise<number> {
  const now = new Date().toISOString();
  const jobs = users.map((user) => {
    const id = randomUUID();
    const data: RetireJobData = {
      user,
      dryRun: false,
      correlationId: randomUUID(),
      requestedBy: 'bench',
      requestedAt: now,
      source: 'batch',
    };
    return { name: 'retire', data, opts: retireJobOptions(ctx, id, data) };
  });
  const t0 = performance.now();
  await ctx.retire.addBulk(jobs);
  return performance.now() - t0;
}
