// The `notify` queue: one job per (outcome event, destination) and one per Lifecycle Workflows resume.
// Job ids are deterministic, so adding the same notification twice (a worker killed after emitting and
// before completing the retire job emits again) is a no-op for BullMQ while the first job is kept.
import { type JobsOptions, Queue } from 'bullmq';
import type { QueueContext } from '../queue/context.js';
import { NOTIFY_QUEUE } from '../queue/names.js';
import { shortHash, type WebhookEvent } from './events.js';
import type { ResumeStatus } from './resume-rule.js';

export const NOTIFY_BACKOFF_TYPE = 'notify';
/**
 * Delivery attempts per notification: the first at once, then 11 retries with exponential backoff
 * (1 min doubling, capped at 6 h, ±20 % jitter): about 20 hours in all before it is a notify dead letter.
 */
export const NOTIFY_ATTEMPTS = 12;

export interface WebhookJobData {
  kind: 'webhook';
  /** Index in WEBHOOK_URLS at emit time (the audit names the destination by it, never by URL). */
  destination: number;
  /**
   * Hash of that URL (destination.ts): the URL itself is never stored in Redis. Delivery resolves it
   * against WEBHOOK_URLS as configured then; only a configured URL is called.
   */
  urlHash: string;
  event: WebhookEvent;
}

export interface ResumeJobData {
  kind: 'resume';
  callbackUriPath: string;
  operationStatus: ResumeStatus;
  /** Why the status is what it is when that is not obvious (a dry run resumes `failed`). */
  note?: string;
  eventId: string;
  eventType: string;
  jobId: string;
  user: string;
  correlationId: string;
}

export type NotifyJobData = WebhookJobData | ResumeJobData;

export function webhookJobId(jobId: string, type: string, destination: number): string {
  return `wh-${shortHash(jobId, type, String(destination))}`;
}

/**
 * One resume per (retire job, callback path): every callback attached to a job hears that job's own
 * outcome once, and a path attached to some other job cannot take this job's resume.
 */
export function resumeJobId(jobId: string, callbackUriPath: string): string {
  return `lw-${shortHash(jobId, callbackUriPath)}`;
}

export function notifyJobOptions(jobId: string): JobsOptions {
  return { jobId, attempts: NOTIFY_ATTEMPTS, backoff: { type: NOTIFY_BACKOFF_TYPE } };
}

const queues = new WeakMap<QueueContext, Queue<NotifyJobData>>();

/**
 * The notify queue of a context, made once and kept with it. It uses the context's queue connection,
 * so it needs no closing of its own (BullMQ does not close a connection it was given).
 */
export function notifyQueue(ctx: QueueContext): Queue<NotifyJobData> {
  let q = queues.get(ctx);
  if (!q) {
    q = new Queue<NotifyJobData>(NOTIFY_QUEUE, { connection: ctx.queueConnection, prefix: ctx.prefix });
    q.on('error', () => {});
    queues.set(ctx, q);
  }
  return q;
}

/** Counts per state of the notify queue; `failed` holds the notifications that gave up (its dead letters). */
export function notifyCounts(ctx: QueueContext): Promise<Record<string, number>> {
  return notifyQueue(ctx).getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
}
