// The one dead-letter path: the safety net (a job BullMQ failed without us) records through the same
// steps as the processor — the dead letter once, its counter, and notifications only when something
// is listening (a webhook or a Lifecycle Workflows callback), the processor's own rule.
import { describe, expect, it } from 'vitest';
import { HeldByGuardError } from '../../src/guard/due.js';
import { createLogger } from '../../src/log.js';
import { notifyQueue } from '../../src/notify/queue.js';
import type { QueueContext } from '../../src/queue/context.js';
import { deadLetterId } from '../../src/queue/names.js';
import { readMetrics } from '../../src/records/metrics.js';
import { DeadLetteredError } from '../../src/worker/dead-letter-step.js';
import { ensureRecorded } from '../../src/worker/safety-net.js';
import { enqueueUsers } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const suite = useWorkerSuite();
const GUID = '11111111-2222-3333-4444-555555555555';
const CALLBACK = `/identityGovernance/lifecycleWorkflows/workflows/${GUID}/tasks/${GUID}/taskProcessingResults/${GUID}/microsoft.graph.identityGovernance.resume`;

/** A retire job as BullMQ hands it to the `failed` listener once it will not retry it. */
async function failedJob(ctx: QueueContext, user: string, extra: Record<string, unknown> = {}) {
  const [id] = await enqueueUsers(ctx, [user]);
  const job = await ctx.retire.getJob(id as string);
  if (!job) throw new Error('job not found');
  if (Object.keys(extra).length > 0) await job.updateData({ ...job.data, ...extra });
  job.finishedOn = Date.now();
  return job;
}

const deps = (ctx: QueueContext) => ({
  ctx,
  actor: 'worker:test',
  logger: createLogger({ level: 'silent' }),
});

describe('safety net', () => {
  it('dead-letters a failed job once (retries_exhausted), counts it, and emits nothing when nobody listens', async () => {
    const ctx = suite.open(suite.config());
    const job = await failedJob(ctx, 'stalled@contoso.com');
    await ensureRecorded(deps(ctx), job, new Error('job stalled more than allowable limit'));
    await ensureRecorded(deps(ctx), job, new Error('job stalled more than allowable limit'));
    const dl = await ctx.deadLetter.getJob(deadLetterId(job.id as string));
    expect(dl?.data).toMatchObject({
      reason: 'retries_exhausted',
      originalJobId: job.id,
      graphMessage: 'job stalled more than allowable limit',
    });
    expect((await readMetrics(ctx.redis, ctx.prefix))['dead_letter:retries_exhausted']).toBe(1);
    expect(await notifyQueue(ctx).count()).toBe(0);
  });

  it('a job carrying a Lifecycle Workflows callback gets its resume call, as from the processor', async () => {
    const ctx = suite.open(suite.config());
    const job = await failedJob(ctx, 'lcw@contoso.com', { callbackUriPath: CALLBACK });
    await ensureRecorded(deps(ctx), job, new Error('boom'));
    const queued = await notifyQueue(ctx).getJobs(['waiting', 'delayed', 'prioritized']);
    expect(queued.map((j) => j.data)).toEqual([
      expect.objectContaining({ kind: 'resume', callbackUriPath: CALLBACK, jobId: job.id }),
    ]);
  });

  it('leaves alone a job already dead-lettered by the processor, one the guard held, and one BullMQ retries', async () => {
    const ctx = suite.open(suite.config());
    const retrying = await failedJob(ctx, 'retrying@contoso.com');
    retrying.finishedOn = undefined;
    const jobs = [
      [await failedJob(ctx, 'dead@contoso.com'), new DeadLetteredError('not_found', 'dl-x')],
      [await failedJob(ctx, 'held@contoso.com'), new HeldByGuardError('batch-1')],
      [retrying, new Error('transient')],
    ] as const;
    for (const [job, err] of jobs) await ensureRecorded(deps(ctx), job, err);
    expect(await ctx.deadLetter.count()).toBe(0);
    expect((await readMetrics(ctx.redis, ctx.prefix))['dead_letter:retries_exhausted']).toBeUndefined();
  });
});
