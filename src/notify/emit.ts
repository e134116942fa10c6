// emitOutcome: the worker's one call when an outcome is final. It writes the notifications to the
// `notify` queue (one job per webhook destination, one resume call for a waiting Lifecycle Workflows
// run, one per callback the job carries) and returns once Redis has them: awaited before the retire job completes, they survive a crash,
// and a crash before completion re-emits the same job ids, which BullMQ ignores. Delivery happens
// elsewhere (notify-worker.ts), so a slow or dead destination never slows retirement.

import type { QueueContext } from '../queue/context.js';
import { callbackPaths } from '../values/callback-path.js';
import { webhookUrlHash } from './destination.js';
import { eventIdFor, type OutcomeEvent, toWebhookEvent } from './events.js';
import { type NotifyJobData, notifyJobOptions, notifyQueue, resumeJobId, webhookJobId } from './queue.js';
import { resumeNoteFor, resumeStatusFor } from './resume-rule.js';

export type { OutcomeEvent, OutcomeEventType } from './events.js';

/**
 * Whether an outcome of this job can call for any notification: webhooks are configured, or the job
 * carries a Lifecycle Workflows callback. The worker asks this first so the common case (neither)
 * builds no event at all.
 */
export function mayNotify(ctx: Pick<QueueContext, 'config'>, callbackUriPath: string | undefined): boolean {
  return ctx.config.webhooks.urls.length > 0 || callbackUriPath !== undefined;
}

/** The notifications an outcome calls for (no I/O): empty when nothing is configured or due. */
export function notificationsFor(
  ctx: Pick<QueueContext, 'config'>,
  event: OutcomeEvent,
): { name: 'webhook' | 'resume'; data: NotifyJobData; jobId: string }[] {
  const out: { name: 'webhook' | 'resume'; data: NotifyJobData; jobId: string }[] = [];
  const urls = ctx.config.webhooks.urls;
  if (urls.length > 0) {
    const body = toWebhookEvent(event);
    urls.forEach((url, destination) => {
      out.push({
        name: 'webhook',
        jobId: webhookJobId(event.data.jobId, event.type, destination),
        data: { kind: 'webhook', destination, urlHash: webhookUrlHash(url), event: body },
      });
    });
  }
  const paths = callbackPaths(event);
  const status = paths.length > 0 ? resumeStatusFor(event, ctx.config.evidence.enabled) : null;
  if (status) {
    const note = resumeNoteFor(event);
    for (const callbackUriPath of paths) {
      out.push({
        name: 'resume',
        jobId: resumeJobId(event.data.jobId, callbackUriPath),
        data: {
          kind: 'resume',
          callbackUriPath,
          operationStatus: status,
          ...(note ? { note } : {}),
          eventId: eventIdFor(event.data.jobId, event.type),
          eventType: event.type,
          jobId: event.data.jobId,
          user: event.data.user,
          correlationId: event.data.correlationId,
        },
      });
    }
  }
  return out;
}

/**
 * Adds the outcome's notifications durably and idempotently. Without WEBHOOK_URLS and without a
 * callback due, it returns at once without touching Redis (the worker calls it for every job).
 */
export async function emitOutcome(ctx: QueueContext, event: OutcomeEvent): Promise<void> {
  const jobs = notificationsFor(ctx, event);
  if (jobs.length === 0) return;
  const queue = notifyQueue(ctx);
  if (jobs.length === 1) {
    const [j] = jobs as [(typeof jobs)[number]];
    await queue.add(j.name, j.data, notifyJobOptions(j.jobId));
    return;
  }
  await queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data, opts: notifyJobOptions(j.jobId) })));
}
