// 4. Latency on an idle system: one enqueue at a time, from the producer's request to the Graph
// call's arrival at the simulator. Ours: POST /v1/offboardings → API → Redis → shipped worker (default
// GRAPH_RATE_LIMIT, enqueues spaced beyond its pace so the pacer never has to wait). Baseline: raw
// queue.add → bare BullMQ worker.
import { randomUUID } from 'node:crypto';
import { retireJobOptions } from '../../src/intake/enqueue.js';
import type { RetireJobData } from '../../src/interfaces.js';
import { type Simulator, startSimulator } from '../../src/sim/index.js';
import { type ApiProcess, startApiProcess } from '../lib/api.js';
import { type Figure, figure, repeat, type Scenario, type ScenarioEnv } from '../lib/figures.js';
import { startFleet } from '../lib/fleet.js';
import { startBenchRedis } from '../lib/redis.js';
import { percentile, summarize } from '../lib/stats.js';
import { closeQueueContext, freshPrefix, leavers, openContext, systemEnv } from '../lib/system.js';

const S = '4 latency';
/** Shipped default GRAPH_RATE_LIMIT (200/20s) paces one call per 100 ms; stay clear of it. */
const SPACING_MS = 125;
const WARMUP = 3;

interface Sample {
  p50: number;
  p99: number;
  max: number;
  /** Producer's request → 202 (API) or add() resolved (raw). */
  ackP50: number;
}

export class ArrivalTimeoutError extends Error {
  override readonly name = 'ArrivalTimeoutError';
}

export class EnqueueRefusedError extends Error {
  override readonly name = 'EnqueueRefusedError';
}

async function arrival(sim: Simulator, user: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = sim.stats().graph.log;
    for (let i = log.length - 1; i >= 0; i--) {
      const e = log[i];
      if (e?.user === user) return e.at;
    }
    if (Date.now() > deadline)
      throw new ArrivalTimeoutError(`no Graph call for ${user} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

type Enqueue = (user: string) => Promise<void>;

async function series(sim: Simulator, count: number, enqueue: Enqueue): Promise<Sample> {
  const lat: number[] = [];
  const ack: number[] = [];
  const users = leavers(count + WARMUP);
  for (const [i, user] of users.entries()) {
    const t0 = Date.now();
    await enqueue(user);
    const acked = Date.now();
    const at = await arrival(sim, user);
    if (i >= WARMUP) {
      lat.push(at - t0);
      ack.push(acked - t0);
    }
    const wait = SPACING_MS - (Date.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return {
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: Math.max(...lat),
    ackP50: percentile(ack, 50),
  };
}

async function ours(sim: Simulator, api: ApiProcess, env: Record<string, string>, count: number) {
  const fleet = await startFleet({ kind: 'offboard', processes: 1, env });
  try {
    return await series(sim, count, async (user) => {
      const res = await fetch(`${api.url}/v1/offboardings`, {
        method: 'POST',
        headers: api.headers,
        body: JSON.stringify({ user }),
      });
      const text = await res.text();
      if (res.status !== 202)
        throw new EnqueueRefusedError(`POST /v1/offboardings answered ${res.status}: ${text.slice(0, 200)}`);
    });
  } finally {
    await fleet.stop();
  }
}

async function baseline(sim: Simulator, env: Record<string, string>, count: number) {
  const ctx = openContext(env);
  const fleet = await startFleet({ kind: 'bare', processes: 1, env });
  try {
    return await series(sim, count, async (user) => {
      const id = randomUUID();
      const data: RetireJobData = {
        user,
        dryRun: false,
        correlationId: randomUUID(),
        requestedBy: 'bench',
        requestedAt: new Date().toISOString(),
        source: 'api',
      };
      await ctx.retire.add('retire', data, retireJobOptions(ctx, id, data));
    });
  } finally {
    await fleet.stop();
    await closeQueueContext(ctx);
  }
}

export const latency: Scenario = {
  id: 'latency',
  title: 'Latency: enqueue → Graph call arrival on an idle system',
  async run(env: ScenarioEnv) {
    const count = env.mode === 'quick' ? 8 : 200;
    const redis = await startBenchRedis();
    const sim = await startSimulator({ latencyMs: 0, limit: null });
    const oursEnv = systemEnv({
      redisUrl: redis.url,
      prefix: freshPrefix('lat'),
      sim,
      concurrency: 10,
      rateLimit: '200/20s',
    });
    const api = await startApiProcess(oursEnv);
    const reps: { ours: Sample; bare: Sample }[] = [];
    try {
      await repeat(env, S, async (_rep, flip) => {
        let o: Sample | undefined;
        let b: Sample | undefined;
        for (const which of flip ? ['bare', 'ours'] : ['ours', 'bare']) {
          sim.reset();
          if (which === 'ours') o = await ours(sim, api, oursEnv, count);
          else {
            const bareEnv = systemEnv({
              redisUrl: redis.url,
              prefix: freshPrefix('lat-bare'),
              sim,
              concurrency: 10,
            });
            b = await baseline(sim, bareEnv, count);
          }
        }
        const rep = { ours: o as Sample, bare: b as Sample };
        env.log(
          `    ${count} enqueues: offboard p50 ${rep.ours.p50} ms p99 ${rep.ours.p99} ms (202 after ${rep.ours.ackP50} ms); ` +
            `bare p50 ${rep.bare.p50} ms p99 ${rep.bare.p99} ms`,
        );
        reps.push(rep);
      });
    } finally {
      await api.stop();
      await sim.close();
      await redis.stop();
    }
    const figures: Figure[] = [
      figure(
        S,
        `offboard (API → worker) p50, ${count} enqueues`,
        'ms',
        summarize(reps.map((r) => r.ours.p50)),
      ),
      figure(S, 'offboard (API → worker) p99', 'ms', summarize(reps.map((r) => r.ours.p99)), {
        op: '<=',
        value: 50,
      }),
      figure(S, 'offboard API answer (202) p50', 'ms', summarize(reps.map((r) => r.ours.ackP50))),
      figure(S, 'bare (queue.add → bare worker) p50', 'ms', summarize(reps.map((r) => r.bare.p50))),
      figure(S, 'bare (queue.add → bare worker) p99', 'ms', summarize(reps.map((r) => r.bare.p99))),
      figure(S, 'p99 offboard − bare', 'ms', summarize(reps.map((r) => r.ours.p99 - r.bare.p99))),
    ];
    return { figures, details: { count, spacingMs: SPACING_MS, warmup: WARMUP, reps } };
  },
};
