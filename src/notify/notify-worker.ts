// The notify worker: a BullMQ Worker on `notify`, beside the retire worker in `offboard worker`, with
// its own connection and concurrency, so a destination that is slow or down never holds a retire
// slot. Each job is one delivery: a signed webhook or a Lifecycle Workflows resume. Failures are
// retried with exponential backoff (NOTIFY_ATTEMPTS, about 20 h); a notification that gives up stays
// on the queue as failed (the notify dead letters, counted on /metrics and GET /v1/queues), audited
// `notify-failed`; a delivered one is audited `notified`.
import { type BackoffStrategy, type Job, UnrecoverableError, Worker } from 'bullmq';
import { graphContext } from '../graph/call.js';
import type { AuditEntry, TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import type { Pacer } from '../pacing/pacer.js';
import { createWritePacer } from '../pacing/write-pacer.js';
import type { QueueContext } from '../queue/context.js';
import { NOTIFY_QUEUE } from '../queue/names.js';
import { appendAudit } from '../records/audit.js';
import { incrementMetrics } from '../records/metrics.js';
import { createRedis } from '../redis/connection.js';
import { deliverResume } from './deliver-resume.js';
import { deliverWebhook } from './deliver-webhook.js';
import { type WebhookDestinationRef, webhookHost } from './destination.js';
import { DeliveryError } from './errors.js';
import type { NotifyJobData } from './queue.js';

export interface NotifyWorkerOptions {
  logger: Logger;
  /** Graph tokens for the resume calls (the worker's own provider). */
  tokenProvider: TokenProvider;
  /**
   * The write budget's pacer for the resume calls. Default one from config that the circuit does not
   * hold: a resume reports an outcome already decided, and must not wait for an operator.
   */
  pacer?: Pacer;
  /** Audit actor, e.g. `worker:<id>`. */
  actor: string;
  /** Deliveries at once in this process. Default 8. */
  concurrency?: number;
  /** Backoff between attempts: base doubling per retry, capped. Default 60 s and 6 h. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
}

export interface NotifyWorkerHandle {
  worker: Worker<NotifyJobData>;
  close(): Promise<void>;
}

/** Thrown after a notification gave up and was recorded: BullMQ fails it without another attempt. */
export class NotificationGaveUpError extends UnrecoverableError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Exponential from `baseMs` (doubling per retry, capped at `capMs`), ±20 % jitter, Retry-After as a floor. */
export function notifyBackoff(baseMs: number, capMs: number, random = Math.random): BackoffStrategy {
  return (attemptsMade, _type, err) => {
    const retry = Math.max(0, attemptsMade - 1);
    const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(retry, 30));
    const jittered = Math.round(ceiling * (0.8 + 0.4 * random()));
    const floor = err instanceof DeliveryError ? (err.retryAfterMs ?? 0) : 0;
    return Math.max(jittered, floor);
  };
}

function describe(data: NotifyJobData, urls: readonly string[]) {
  if (data.kind === 'webhook') {
    const host = webhookHost(data, urls);
    return {
      jobId: data.event.data.jobId,
      user: data.event.data.user,
      correlationId: data.event.data.correlationId,
      details: {
        kind: 'webhook' as const,
        eventId: data.event.id,
        eventType: data.event.type,
        destination: data.destination,
        host,
      },
    };
  }
  return {
    jobId: data.jobId,
    user: data.user,
    correlationId: data.correlationId,
    details: {
      kind: 'resume' as const,
      eventId: data.eventId,
      eventType: data.eventType,
      operationStatus: data.operationStatus,
      ...(data.note ? { note: data.note } : {}),
    },
  };
}

function wellFormed(data: unknown): data is NotifyJobData {
  const d = data as NotifyJobData | null;
  if (!d || typeof d !== 'object') return false;
  if (d.kind === 'webhook') {
    const ref = d as WebhookDestinationRef;
    return (
      Number.isInteger(ref.destination) &&
      (typeof ref.urlHash === 'string' || typeof ref.url === 'string') &&
      typeof d.event?.id === 'string'
    );
  }
  if (d.kind === 'resume') return typeof d.callbackUriPath === 'string' && typeof d.jobId === 'string';
  return false;
}

export function startNotifyWorker(ctx: QueueContext, opts: NotifyWorkerOptions): NotifyWorkerHandle {
  const { logger, actor } = opts;
  const { webhooks, retention } = ctx.config;
  const timeoutMs = opts.timeoutMs;
  const pacer =
    opts.pacer ??
    createWritePacer({ redis: ctx.redis, prefix: ctx.prefix, config: ctx.config, tuning: { holdKey: null } });
  const resumeGraph = {
    ...graphContext(ctx.config, opts.tokenProvider, pacer),
    ...(timeoutMs ? { timeoutMs } : {}),
  };

  const audit = (type: AuditEntry['type'], d: ReturnType<typeof describe>, extra: object) =>
    appendAudit(ctx, {
      type,
      actor,
      at: new Date().toISOString(),
      ...(d.jobId ? { jobId: d.jobId } : {}),
      ...(d.user ? { user: d.user } : {}),
      ...(d.correlationId ? { correlationId: d.correlationId } : {}),
      details: { ...d.details, ...extra },
    });

  const processor = async (job: Job<NotifyJobData>) => {
    const attempt = job.attemptsMade + 1;
    const lastAttempt = attempt >= (job.opts.attempts ?? 1);
    if (!wellFormed(job.data)) {
      logger.error({ notifyJob: job.id }, 'malformed notification job: dropped');
      throw new NotificationGaveUpError('malformed notification job', 'malformed');
    }
    const data = job.data;
    const d = describe(data, webhooks.urls);
    try {
      const res =
        data.kind === 'webhook'
          ? await deliverWebhook(data, { urls: webhooks.urls, secret: webhooks.secret, timeoutMs, attempt })
          : await deliverResume(data, { graph: resumeGraph });
      await Promise.all([
        audit('notified', d, {
          status: res.status,
          attempt,
          ...('requestId' in res && res.requestId ? { requestId: res.requestId } : {}),
        }),
        incrementMetrics(ctx.redis, ctx.prefix, { [`notify:${data.kind}:ok`]: 1 }),
      ]);
      return { status: res.status, attempt, deliveredAt: new Date().toISOString() };
    } catch (err) {
      const e =
        err instanceof DeliveryError
          ? err
          : new DeliveryError((err as Error)?.message ?? 'delivery failed', null, false, undefined, 'error');
      if (e.permanent || lastAttempt) {
        await Promise.all([
          audit('notify-failed', d, { code: e.code, status: e.status, attempt, permanent: e.permanent }),
          incrementMetrics(ctx.redis, ctx.prefix, { [`notify:${data.kind}:failed`]: 1 }),
        ]);
        logger.warn(
          { notifyJob: job.id, ...d.details, code: e.code, status: e.status, attempt },
          'notification gave up (kept on the notify queue as failed)',
        );
        throw new NotificationGaveUpError(e.message, e.code);
      }
      await incrementMetrics(ctx.redis, ctx.prefix, { [`notify:${data.kind}:retry`]: 1 });
      logger.info(
        { notifyJob: job.id, kind: data.kind, code: e.code, status: e.status, attempt },
        'notification not delivered; retried after a backoff',
      );
      throw e;
    }
  };

  const connection = createRedis(ctx.config.redis, {
    blocking: true,
    name: `offboard-notify-${process.pid}`,
  });
  const worker = new Worker<NotifyJobData>(NOTIFY_QUEUE, processor, {
    connection,
    prefix: ctx.prefix,
    concurrency: opts.concurrency ?? 8,
    settings: {
      backoffStrategy: notifyBackoff(opts.backoffBaseMs ?? 60_000, opts.backoffCapMs ?? 6 * 3_600_000),
    },
    // Completed jobs are kept only as long as their ids must deduplicate a re-emission (minutes in
    // practice); failed ones are the notify dead letters, kept like failed retire jobs.
    removeOnComplete: {
      age: Math.ceil(Math.min(retention.completedAgeMs, 7 * 86_400_000) / 1000),
      count: Math.min(retention.completedCount, 50_000),
    },
    removeOnFail: { age: Math.ceil(retention.failedAgeMs / 1000) },
    // A killed worker's deliveries are taken over as fast as its retire jobs (WORKER_LOCK_DURATION,
    // WORKER_STALLED_INTERVAL); a delivery in flight at the kill may then arrive twice, same event id.
    lockDuration: ctx.config.worker.lockDurationMs,
    stalledInterval: ctx.config.worker.stalledIntervalMs,
    maxStalledCount: 2,
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'notify worker error'));
  connection.on('error', () => {});
  worker.on('failed', (job, err) => {
    // Failed without passing through the handler above (stalled too often): recorded all the same.
    if (!job?.finishedOn || err instanceof NotificationGaveUpError || !wellFormed(job.data)) return;
    logger.warn({ notifyJob: job.id, err: err.message }, 'notification failed outside delivery');
    void Promise.all([
      audit('notify-failed', describe(job.data, webhooks.urls), {
        code: 'stalled',
        attempt: job.attemptsMade,
      }),
      incrementMetrics(ctx.redis, ctx.prefix, { [`notify:${job.data.kind}:failed`]: 1 }),
    ]).catch(() => undefined);
  });
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
