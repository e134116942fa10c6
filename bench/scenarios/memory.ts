// 5. Memory: Redis `used_memory` per pending job (product intake vs a raw addBulk of minimal jobs)
// and per retained completed job (shipped worker vs bare BullMQ worker on the same staged jobs).
import { randomUUID } from 'node:crypto';
import { enqueueMany } from '../../src/intake/enqueue.js';
import { startSimulator } from '../../src/sim/index.js';
import { type Figure, figure, repeat, type Scenario, type ScenarioEnv } from '../lib/figures.js';
import { startBenchRedis } from '../lib/redis.js';
import { summarize } from '../lib/stats.js';
import {
  closeQueueContext,
  freshPrefix,
  IncompleteWorkloadError,
  leavers,
  openContext,
  StagingError,
  systemEnv,
} from '../lib/system.js';
import { drain } from '../lib/throughput.js';

const S = '5 memory';

interface Rep {
  pendingOurs: number;
  pendingRaw: number;
  completedOurs: number;
  completedBare: number;
}

export const memory: Scenario = {
  id: 'memory',
  title: 'Redis memory per pending and per retained completed job',
  async run(env: ScenarioEnv) {
    const n = env.mode === 'quick' ? 200 : 10_000;
    const redis = await startBenchRedis();
    const sim = await startSimulator({ latencyMs: 0, limit: null });
    const reps: Rep[] = [];
    try {
      await repeat(env, S, async () => {
        const rep: Partial<Rep> = {};

        // Pending: the product's intake (job, dedupe key, `requested` audit + user history entry).
        await redis.client.flushall();
        {
          const wenv = systemEnv({ redisUrl: redis.url, prefix: freshPrefix('mem'), sim, concurrency: 10 });
          const ctx = openContext(wenv);
          await ctx.redis.ping();
          const m0 = await redis.usedMemory();
          const results = await enqueueMany(
            ctx,
            leavers(n).map((user) => ({ user })),
            { requestedBy: 'bench', source: 'batch' },
            { chunkSize: 2000 },
          );
          if (results.some((r) => r.status !== 'accepted'))
            throw new StagingError('memory: the intake refused items');
          rep.pendingOurs = ((await redis.usedMemory()) - m0) / n;
          await closeQueueContext(ctx);
        }

        // Baseline: the smallest useful BullMQ job, `{user}` with default options, one addBulk.
        await redis.client.flushall();
        {
          const wenv = systemEnv({
            redisUrl: redis.url,
            prefix: freshPrefix('mem-raw'),
            sim,
            concurrency: 10,
          });
          const ctx = openContext(wenv);
          await ctx.redis.ping();
          const m0 = await redis.usedMemory();
          await ctx.retire.addBulk(
            leavers(n).map((user) => ({
              name: 'retire',
              data: { user } as never,
              opts: { jobId: randomUUID() },
            })),
          );
          rep.pendingRaw = ((await redis.usedMemory()) - m0) / n;
          await closeQueueContext(ctx);
        }

        // Retained completed: everything a finished job leaves behind, from an empty Redis.
        for (const kind of ['offboard', 'bare'] as const) {
          await redis.client.flushall();
          let m0 = 0;
          let m1 = 0;
          const r = await drain({
            kind,
            processes: 2,
            concurrency: 50,
            n,
            sim,
            redis,
            beforeStage: async () => {
              m0 = await redis.usedMemory();
            },
            inspect: async () => {
              m1 = await redis.usedMemory();
            },
          });
          if (r.completed < n)
            throw new IncompleteWorkloadError(`memory: only ${r.completed}/${n} ${kind} jobs completed`);
          if (kind === 'offboard') rep.completedOurs = (m1 - m0) / n;
          else rep.completedBare = (m1 - m0) / n;
        }
        env.log(
          `    per pending job ${rep.pendingOurs?.toFixed(0)} B (raw ${rep.pendingRaw?.toFixed(0)} B); ` +
            `per completed ${rep.completedOurs?.toFixed(0)} B (bare worker ${rep.completedBare?.toFixed(0)} B)`,
        );
        reps.push(rep as Rep);
      });
    } finally {
      await sim.close();
      await redis.stop();
    }
    const figures: Figure[] = [
      figure(S, 'per pending job, product intake', 'B', summarize(reps.map((r) => r.pendingOurs)), {
        op: '<=',
        value: 2048,
      }),
      figure(S, 'per pending job, raw addBulk of {user}', 'B', summarize(reps.map((r) => r.pendingRaw))),
      figure(S, 'ratio pending product ÷ raw', 'x', summarize(reps.map((r) => r.pendingOurs / r.pendingRaw))),
      figure(
        S,
        'per retained completed job, offboard worker',
        'B',
        summarize(reps.map((r) => r.completedOurs)),
      ),
      figure(S, 'per retained completed job, bare worker', 'B', summarize(reps.map((r) => r.completedBare))),
      figure(
        S,
        'ratio completed offboard ÷ bare',
        'x',
        summarize(reps.map((r) => r.completedOurs / r.completedBare)),
      ),
    ];
    return { figures, details: { n, reps } };
  },
};
