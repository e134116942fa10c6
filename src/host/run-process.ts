// The worker process (`offboard worker`): hosts the four workers a process runs — the retire job
// (src/worker/), verification reads (src/evidence/), notifications (src/notify/) and scheduled sweeps
// (src/schedule/) — with what they share: the Redis connections, the token provider, both pacers, the
// fleet counter buffer, a heartbeat, and one graceful shutdown for all of them.
import type { Worker } from 'bullmq';
import type { Config } from '../config/load.js';
import { createTokenProvider } from '../entra/provider.js';
import { startVerifyWorker } from '../evidence/verify-worker.js';
import type { GraphTransport } from '../graph/call.js';
import type { RetireJobData, RetireRecord, TokenProvider } from '../interfaces.js';
import { createLogger, type Logger } from '../log.js';
import { type NotifyWorkerOptions, startNotifyWorker } from '../notify/notify-worker.js';
import { createReadPacer } from '../pacing/read-pacer.js';
import { createWritePacer } from '../pacing/write-pacer.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../queue/context.js';
import { MetricsBuffer } from '../records/metrics.js';
import { createRedis } from '../redis/connection.js';
import { startSweepWorker } from '../schedule/worker.js';
import { startTenants } from '../tenants/start.js';
import type { TenantConfig } from '../tenants/types.js';
import { createRetireWorker } from '../worker/retire-worker.js';
import { publishCertificateExpiry } from './certificate-expiry.js';
import { startHeartbeat, workerId } from './heartbeat.js';

export interface StartWorkerOptions {
  logger?: Logger;
  /** Default: built from config (app or delegated mode). */
  tokenProvider?: TokenProvider;
  /** Jobs processed at once by this process. Default config.worker.concurrency (WORKER_CONCURRENCY). */
  concurrency?: number;
  /** Replaces the HTTP exchange of the retire calls (benchmarks comparing transports). Default graph/transport. */
  transport?: GraphTransport;
  /** Heartbeat period. Default 10 s. */
  heartbeatMs?: number;
  /** How often buffered fleet counters are written to Redis. Default 1 s. */
  metricsFlushMs?: number;
  /** Also run the scheduled-sweep worker (src/schedule). Default true. */
  sweep?: boolean;
  /** The notify worker (webhooks, Lifecycle Workflows resume): false = not in this process; or its settings. */
  notify?: false | Pick<NotifyWorkerOptions, 'concurrency' | 'backoffBaseMs' | 'backoffCapMs' | 'timeoutMs'>;
  /**
   * Called when BullMQ's run loop dies. The CLI exits non-zero so Docker or Kubernetes restarts the
   * process: a worker that processes nothing must not keep a healthy heartbeat. Default: log only.
   */
  onFatal?: (err: unknown) => void;
  /** With TENANTS_FILE: replaces each tenant's MSAL provider (tests). Default one per tenant authority. */
  tokenProviderFor?: (tenant: TenantConfig) => TokenProvider;
}

export interface RunningWorker {
  worker: Worker<RetireJobData, RetireRecord>;
  ctx: QueueContext;
  /** Stops taking jobs, lets jobs already calling Graph finish (bounded by SHUTDOWN_TIMEOUT), closes. */
  close(): Promise<void>;
}

/** Thrown into waits on shutdown so waiting jobs go back to the queue. */
export class ShutdownError extends Error {
  override readonly name = 'ShutdownError';
}

export async function startWorker(config: Config, opts: StartWorkerOptions = {}): Promise<RunningWorker> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const id = workerId();
  const actor = `worker:${id}`;
  const ctx = createQueueContext(config, { blocking: true, name: `offboard-worker-${process.pid}` });
  const connection = createRedis(config.redis, {
    blocking: true,
    name: `offboard-worker-bullmq-${process.pid}`,
  });
  // Many tenants: per-tenant contexts and fair dispatch; the deployment provider serves the rest.
  const tenants = startTenants(config, {
    ctx,
    logger,
    actor,
    ...(opts.transport ? { transport: opts.transport } : {}),
    ...(opts.tokenProviderFor ? { tokenProviderFor: opts.tokenProviderFor } : {}),
  });
  const tokenProvider =
    opts.tokenProvider ?? tenants?.fallback ?? createTokenProvider(config, { redis: ctx.redis, logger });
  // Fleet counters: one pipeline per second instead of several per job; flushed on close.
  const metrics = new MetricsBuffer(ctx.redis, ctx.prefix, opts.metricsFlushMs);
  const pacer = createWritePacer({ redis: ctx.redis, prefix: ctx.prefix, config });
  // Reads (inventory, verification, Entra sweeps) have their own budget, keys and 429 gate.
  const readPacer = createReadPacer({ redis: ctx.redis, prefix: ctx.prefix, config });
  const shutdown = new AbortController();
  const worker = createRetireWorker({
    ctx,
    connection,
    logger,
    tokenProvider,
    actor,
    pacer,
    readPacer,
    shutdown: shutdown.signal,
    concurrency: opts.concurrency ?? config.worker.concurrency,
    ...(opts.transport ? { transport: opts.transport } : {}),
    ...(tenants ? { dispatcher: tenants.dispatcher } : {}),
  });

  const quietError = rateLimitedLog(logger, 5000);
  worker.on('error', (err) =>
    quietError(err, 'worker error (Redis unavailable? BullMQ reconnects by itself)'),
  );
  connection.on('error', (err) => quietError(err, 'Redis connection error'));
  ctx.redis.on('error', (err) => quietError(err, 'Redis connection error'));

  const heartbeat = startHeartbeat({ redis: ctx.redis, prefix: ctx.prefix, intervalMs: opts.heartbeatMs });
  // On-call metrics: certificate expiry (api/metrics/on-call.ts).
  const certificate = publishCertificateExpiry(config, ctx, id);
  // Scheduled sweeps run beside the retire worker; BullMQ hands each tick to exactly one process.
  // Entra sources read Graph with this worker's credentials, on the read budget (src/schedule/entra-source.ts).
  const sweep = opts.sweep === false ? undefined : startSweepWorker(ctx, { logger, tokenProvider });
  // Outcome webhooks and Lifecycle Workflows resume calls (src/notify): their own queue and concurrency,
  // so a destination that is down never holds a retire slot.
  const notify =
    opts.notify === false
      ? undefined
      : startNotifyWorker(ctx, { logger, tokenProvider, actor, ...(opts.notify ?? {}) });
  // Verification reads after the action (src/evidence), paced on the read budget; EVIDENCE=off: no reads.
  const verify = config.evidence.enabled
    ? startVerifyWorker(ctx, {
        logger,
        tokenProvider,
        readPacer,
        actor,
        ...(tenants ? { tenantReads: tenants.reads } : {}),
      })
    : undefined;

  void worker.run().catch((err) => {
    logger.error({ err }, 'worker stopped unexpectedly');
    heartbeat.stop();
    opts.onFatal?.(err);
  });
  await worker.waitUntilReady();
  logger.info(
    { worker: id, concurrency: worker.concurrency, prefix: ctx.prefix, dryRun: config.worker.dryRun },
    'worker started',
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // close() first so BullMQ stops fetching before the aborted waits hand their jobs back.
      const graceful = Promise.all([worker.close(), sweep?.close(), verify?.close(), notify?.close()]);
      shutdown.abort(new ShutdownError('worker shutting down'));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), config.worker.shutdownTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        logger.warn(
          { timeoutMs: config.worker.shutdownTimeoutMs },
          'shutdown timeout: leaving jobs still in flight to stall recovery by another worker',
        );
      }
      await Promise.allSettled([
        heartbeat.stop(),
        certificate?.stop(),
        tokenProvider.close?.(),
        tenants?.close(),
      ]);
      // After the BullMQ worker has closed: every outcome of this process is in the buffer.
      await metrics.close().catch((err) => logger.warn({ err }, 'could not write the last fleet counters'));
      await closeQueueContext(ctx);
      connection.disconnect();
      logger.info({ worker: id }, 'worker stopped');
    })();
    return closing;
  };
  return { worker, ctx, close };
}

function rateLimitedLog(logger: Logger, everyMs: number): (err: Error, msg: string) => void {
  const last = new Map<string, number>();
  return (err, msg) => {
    const key = `${msg}:${err?.message}`;
    const now = Date.now();
    if (now - (last.get(key) ?? 0) < everyMs) return;
    last.set(key, now);
    logger.error({ err: { name: err?.name, message: err?.message } }, msg);
  };
}
