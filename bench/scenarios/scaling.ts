// 6. Scaling: one vs two worker processes of the shipped worker on the overhead workload.
import { startSimulator } from '../../src/sim/index.js';
import { type Figure, figure, repeat, type Scenario, type ScenarioEnv } from '../lib/figures.js';
import { startBenchRedis } from '../lib/redis.js';
import { summarize } from '../lib/stats.js';
import { type DrainResult, drain } from '../lib/throughput.js';
import { OVERHEAD_LATENCY_MS, overheadN } from './overhead.js';

const S = '6 scaling';

interface Pair {
  concurrency: number;
  one: DrainResult;
  two: DrainResult;
  ratio: number;
}

export const scaling: Scenario = {
  id: 'scaling',
  title: 'Scaling: one vs two worker processes',
  async run(env: ScenarioEnv) {
    // Quick mode keeps the CPU-bound level only: it is the one where a second process can help.
    const levels = env.mode === 'quick' ? [50] : [10, 50];
    const redis = await startBenchRedis();
    const sim = await startSimulator({ latencyMs: OVERHEAD_LATENCY_MS, limit: null });
    const pairs: Pair[] = [];
    try {
      await repeat(env, S, async (_rep, flip) => {
        for (const concurrency of levels) {
          const n = overheadN(env.mode, concurrency);
          const got: Record<number, DrainResult> = {};
          for (const processes of flip ? [2, 1] : [1, 2]) {
            await redis.client.flushall();
            got[processes] = await drain({ kind: 'offboard', processes, concurrency, n, sim, redis });
          }
          const one = got[1] as DrainResult;
          const two = got[2] as DrainResult;
          const ratio = two.jobsPerSec / one.jobsPerSec;
          env.log(
            `    c=${concurrency} n=${n}: 1 process ${one.jobsPerSec.toFixed(0)} jobs/s, ` +
              `2 processes ${two.jobsPerSec.toFixed(0)} jobs/s, ratio ${ratio.toFixed(2)}`,
          );
          pairs.push({ concurrency, one, two, ratio });
        }
      });
    } finally {
      await sim.close();
      await redis.stop();
    }
    const figures: Figure[] = [];
    for (const c of levels) {
      const ps = pairs.filter((p) => p.concurrency === c);
      figures.push(
        figure(S, `1 process × concurrency ${c}`, 'jobs/s', summarize(ps.map((p) => p.one.jobsPerSec))),
        figure(S, `2 processes × concurrency ${c}`, 'jobs/s', summarize(ps.map((p) => p.two.jobsPerSec))),
        figure(S, `ratio 2 ÷ 1 processes, concurrency ${c}`, 'x', summarize(ps.map((p) => p.ratio))),
      );
    }
    return {
      figures,
      details: {
        simLatencyMs: OVERHEAD_LATENCY_MS,
        pairs: pairs.map((p) => ({
          concurrency: p.concurrency,
          n: p.one.n,
          oneJobsPerSec: p.one.jobsPerSec,
          twoJobsPerSec: p.two.jobsPerSec,
          ratio: p.ratio,
        })),
      },
    };
  },
};
