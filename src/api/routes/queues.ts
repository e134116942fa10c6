// Queue status and the operator's brake: pause and resume (resume also closes an open circuit).
import type { FastifyPluginAsync } from 'fastify';
import { getQueueStatus, pauseQueue, resumeQueue } from '../../control/queue-control.js';
import { notifyCounts } from '../../notify/queue.js';
import type { QueueContext } from '../../queue/context.js';
import { scheduleHealth } from '../../schedule/sweep-status.js';
import { actorOf, OPERATOR, VIEWER } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { AUTH_ERRORS, emptyBody, errors, reasonBody } from '../schemas/common.js';
import { queuesView } from '../schemas/jobs.js';

/** Queue status with the dead-letter queue's counts per state (not just its total). */
export async function queuesStatus(ctx: QueueContext) {
  const [status, dl, notify, schedules] = await Promise.all([
    getQueueStatus(ctx),
    ctx.deadLetter.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
    notifyCounts(ctx),
    scheduleHealth(ctx),
  ]);
  // notify: outcome webhooks and Lifecycle Workflows resume calls; `failed` = notifications that gave up.
  // schedules: a failing sweep (source unreadable, mass_withdrawal) shows here, not only in the CLI.
  return {
    ...status,
    deadLetter: { ...dl, total: status.deadLetter.total ?? dl.waiting ?? 0 },
    notify,
    schedules,
  };
}

export const queueRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/queues',
    {
      config: { access: VIEWER },
      schema: {
        summary: 'Counts per state, pause, circuit and throttle state',
        tags: ['queues'],
        response: { 200: queuesView, ...errors(...AUTH_ERRORS, 503) },
      },
    },
    async () => queuesStatus(ctx),
  );

  app.post(
    '/v1/queues/retire/pause',
    {
      config: { access: OPERATOR },
      schema: {
        summary: 'Pause the retire queue for every worker (audited)',
        tags: ['queues'],
        body: reasonBody,
        response: { 200: queuesView, ...errors(400, ...AUTH_ERRORS, 503) },
      },
    },
    async (request) => {
      const { reason } = request.body as { reason?: string };
      await pauseQueue(ctx, actorOf(request), reason?.trim() || 'paused by operator');
      return queuesStatus(ctx);
    },
  );

  app.post(
    '/v1/queues/retire/resume',
    {
      config: { access: OPERATOR },
      schema: {
        summary: 'Resume the retire queue; closes the circuit if it was open (audited)',
        tags: ['queues'],
        body: emptyBody,
        response: { 200: queuesView, ...errors(400, ...AUTH_ERRORS, 503) },
      },
    },
    async (request) => {
      await resumeQueue(ctx, actorOf(request));
      return queuesStatus(ctx);
    },
  );
};
