// The set-up most worker tests share, written once: a private Redis and the simulator for the file,
// and per test the queue contexts, in-process workers and anything else it deferred, closed after it
// in reverse order (a worker before the context opened ahead of it, so its last counters reach Redis
// before the connections go), then the simulator reset.
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Config } from '../../src/config/load.js';
import type { StartWorkerOptions } from '../../src/host/run-process.js';
import type { QueueContext } from '../../src/queue/context.js';
import { type StartRedisOptions, startRedis, type TestRedis } from './redis.js';
import { type SimulatorOptions, startTestSimulator, type TestSimulator } from './sim.js';
import {
  closeQueueContext,
  type InProcessWorker,
  openContext,
  startTestWorker,
  uniquePrefix,
  workerConfig,
} from './worker.js';

export interface WorkerSuiteOptions {
  redis?: StartRedisOptions;
  sim?: SimulatorOptions;
  /** After each test, once `sim.reset()` has run: restores what this file's tests change beyond it. */
  resetSim?: (sim: TestSimulator) => void;
}

export interface WorkerSuite {
  readonly redis: TestRedis;
  readonly sim: TestSimulator;
  /** A worker configuration on a fresh queue prefix (EVIDENCE=off unless `env` says otherwise). */
  config(env?: Record<string, string | undefined>): Config;
  /** A queue context closed after the test. */
  open(config: Config): QueueContext;
  /** An in-process worker closed after the test. */
  startWorker(config: Config, opts?: StartWorkerOptions): Promise<InProcessWorker>;
  /** config + context + worker, the usual start of a test. */
  start(
    env?: Record<string, string | undefined>,
  ): Promise<{ config: Config; ctx: QueueContext; worker: InProcessWorker }>;
  /** Closes this test's workers now (their buffered fleet counters are then in Redis). */
  closeWorkers(): Promise<void>;
  /** Runs `fn` after the test, in reverse order with the contexts and workers. */
  defer(fn: () => Promise<unknown> | unknown): void;
}

/** Registers the file's hooks; call at the top level of a test file. */
export function useWorkerSuite(opts: WorkerSuiteOptions = {}): WorkerSuite {
  let redis: TestRedis | undefined;
  let sim: TestSimulator | undefined;
  const workers: InProcessWorker[] = [];
  const closers: (() => Promise<unknown> | unknown)[] = [];

  beforeAll(async () => {
    redis = await startRedis(opts.redis);
    sim = await startTestSimulator(opts.sim);
  });
  afterEach(async () => {
    // Everything is closed even when one closer fails; the first failure fails the hook.
    let failure: unknown;
    for (const fn of closers.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        failure ??= err;
      }
    }
    workers.length = 0;
    if (sim) {
      sim.reset();
      opts.resetSim?.(sim);
    }
    if (failure) throw failure;
  });
  afterAll(async () => {
    await sim?.close();
    await redis?.stop();
  });

  async function closeWorkers(): Promise<void> {
    // close() is idempotent: the worker's closer runs again after the test and returns at once.
    for (const worker of workers.splice(0)) await worker.close();
  }
  const started = <T>(value: T | undefined, what: string): T => {
    if (!value) throw new Error(`${what} is not started yet (use it inside a test or hook)`);
    return value;
  };

  const suite: WorkerSuite = {
    get redis() {
      return started(redis, 'redis');
    },
    get sim() {
      return started(sim, 'the simulator');
    },
    config(env = {}) {
      const r = suite.redis;
      return workerConfig(r, suite.sim, uniquePrefix(r.prefix), env);
    },
    open(config) {
      const ctx = openContext(config);
      closers.push(() => closeQueueContext(ctx));
      return ctx;
    },
    async startWorker(config, workerOpts) {
      const worker = await startTestWorker(config, workerOpts);
      workers.push(worker);
      closers.push(() => worker.close());
      return worker;
    },
    async start(env) {
      const config = suite.config(env);
      const ctx = suite.open(config);
      const worker = await suite.startWorker(config);
      return { config, ctx, worker };
    },
    closeWorkers,
    defer(fn) {
      closers.push(fn);
    },
  };
  return suite;
}
