// The verify worker: a BullMQ Worker on `verify`, started beside the retire worker in `offboard
// worker`, on its own connection and with a modest concurrency (a check is one or two paced reads).
// Reads go through the READ pacer: verification never takes a write slot and a read 429 gates reads
// only. Closing it hands a check in flight back to the queue (delayed), never loses it.
import { Worker } from 'bullmq';
import type { TokenProvider, VerifyJobData } from '../interfaces.js';
import type { Logger } from '../log.js';
import type { Pacer } from '../pacing/pacer.js';
import type { QueueContext } from '../queue/context.js';
import { VERIFY_QUEUE } from '../queue/names.js';
import { createRedis } from '../redis/connection.js';
import { createVerifyProcessor, type TenantReads, type VerifyRunResult } from './verify-processor.js';

/** Checks at once per process: reads are cheap, and the read budget is shared with the inventory. */
export const VERIFY_CONCURRENCY = 5;

export interface VerifyWorkerOptions {
  logger: Logger;
  tokenProvider: TokenProvider;
  readPacer: Pacer;
  /** Audit actor, e.g. `worker:<id>`. */
  actor: string;
  concurrency?: number;
  /** TENANTS_FILE: each tenant's token provider and read pacer (verify-processor.ts). */
  tenantReads?: TenantReads;
}

export interface VerifyWorkerHandle {
  worker: Worker<VerifyJobData, VerifyRunResult>;
  close(): Promise<void>;
}

export function startVerifyWorker(ctx: QueueContext, opts: VerifyWorkerOptions): VerifyWorkerHandle {
  const connection = createRedis(ctx.config.redis, {
    blocking: true,
    name: `offboard-verify-${process.pid}`,
  });
  connection.on('error', () => {});
  const shutdown = new AbortController();
  const processor = createVerifyProcessor({
    ctx,
    readPacer: opts.readPacer,
    tokenProvider: opts.tokenProvider,
    logger: opts.logger,
    actor: opts.actor,
    shutdown: shutdown.signal,
    ...(opts.tenantReads ? { tenantReads: opts.tenantReads } : {}),
  });
  const worker = new Worker<VerifyJobData, VerifyRunResult>(VERIFY_QUEUE, processor, {
    connection,
    prefix: ctx.prefix,
    concurrency: opts.concurrency ?? VERIFY_CONCURRENCY,
    lockDuration: ctx.config.worker.lockDurationMs,
    stalledInterval: ctx.config.worker.stalledIntervalMs,
    maxStalledCount: 2,
  });
  worker.on('error', (err) => opts.logger.debug({ err: { message: err.message } }, 'verify worker error'));
  worker.on('failed', (job, err) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      opts.logger.error(
        { verifyJob: job.id, error: err.message },
        'verify job gave up: verification stays pending',
      );
    }
  });
  let closing: Promise<void> | undefined;
  return {
    worker,
    close() {
      closing ??= (async () => {
        const graceful = worker.close();
        shutdown.abort(new Error('verify worker shutting down'));
        await graceful.catch(() => undefined);
        connection.disconnect();
      })();
      return closing;
    },
  };
}
