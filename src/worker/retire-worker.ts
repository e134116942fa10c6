// The BullMQ Worker on `retire`: the processor with its circuit, the retry backoff, lock and stall
// settings, retention, and the listeners that belong to the retire job (stalled jobs, the safety net,
// outcome latency). The process around it (connections, the other workers, shutdown) is src/host/.
import { Worker } from 'bullmq';
import { createCircuit } from '../control/circuit.js';
import type { GraphTransport } from '../graph/call.js';
import type { RetireJobData, RetireRecord, TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import type { Pacer } from '../pacing/pacer.js';
import type { QueueContext } from '../queue/context.js';
import { RETIRE_QUEUE } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';
import { observeOutcomes } from './outcome-metrics.js';
import { createProcessor } from './processor.js';
import { createBackoffStrategy } from './retry-policy.js';
import { ensureRecorded } from './safety-net.js';
import type { Dispatcher } from './tenant-port.js';

export interface RetireWorkerDeps {
  ctx: QueueContext;
  /** BullMQ's own blocking connection. */
  connection: RedisClient;
  logger: Logger;
  tokenProvider: TokenProvider;
  actor: string;
  /** The write budget's pacer (the retire POSTs). */
  pacer: Pacer;
  /** The read budget's pacer (inventory reads). */
  readPacer: Pacer;
  /** Aborted on shutdown: waiting jobs go back to the queue. */
  shutdown: AbortSignal;
  concurrency: number;
  transport?: GraphTransport;
  /** With TENANTS_FILE: per-tenant contexts and fair dispatch (src/tenants/). */
  dispatcher?: Dispatcher;
}

/** Built with autorun off: the host starts it once every other worker is in place. */
export function createRetireWorker(deps: RetireWorkerDeps): Worker<RetireJobData, RetireRecord> {
  const { ctx, logger, actor } = deps;
  const config = ctx.config;
  const circuit = createCircuit({
    ctx,
    logger,
    forbiddenThreshold: config.worker.forbiddenThreshold,
    forbiddenWindowMs: config.worker.forbiddenWindowMs,
    forbiddenShare: config.worker.forbiddenShare,
    actor,
  });
  const processor = createProcessor({
    ctx,
    pacer: deps.pacer,
    circuit,
    logger,
    tokenProvider: deps.tokenProvider,
    actor,
    shutdown: deps.shutdown,
    ...(deps.transport ? { transport: deps.transport } : {}),
    readPacer: deps.readPacer,
    ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
  });

  const worker = new Worker<RetireJobData, RetireRecord>(RETIRE_QUEUE, processor, {
    connection: deps.connection,
    prefix: ctx.prefix,
    concurrency: deps.concurrency,
    settings: { backoffStrategy: createBackoffStrategy(config.worker) },
    // BullMQ renews the lock every lockDuration/2 while a job runs (Graph calls, pacing waits), so
    // the lock need not outlast a call; it bounds how long a dead worker's jobs stay orphaned.
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: 1,
    // Retention is the worker's, not stored in every job's options (about 100 B per pending job).
    // Jobs staged by an older intake keep their own options, which BullMQ prefers.
    removeOnComplete: {
      age: Math.ceil(config.retention.completedAgeMs / 1000),
      count: config.retention.completedCount,
    },
    removeOnFail: { age: Math.ceil(config.retention.failedAgeMs / 1000) },
    autorun: false,
  });

  worker.on('stalled', (jobId) =>
    logger.warn({ jobId }, 'job stalled (its worker died?): back in the queue'),
  );
  const dl = { ctx, actor, logger };
  worker.on('failed', (job, err) => {
    if (job) void ensureRecorded(dl, job, err);
  });
  // On-call metrics: time from request to outcome (api/metrics/on-call.ts).
  observeOutcomes(worker, ctx);
  return worker;
}
