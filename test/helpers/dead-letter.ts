// A dead letter made the way the worker makes one: enqueue a request, then move its job to the
// dead-letter queue. The original job stays pending (it is never failed here).
import { enqueue } from '../../src/intake/enqueue.js';
import type { QueueContext } from '../../src/queue/context.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';

export async function deadLetterFor(
  ctx: QueueContext,
  user: string,
  reason: 'not_found' | 'forbidden',
): Promise<{ id: string; jobId: string }> {
  const r = await enqueue(ctx, { user }, { requestedBy: 'hr', source: 'api' });
  const job = await ctx.retire.getJob(r.id);
  if (!job) throw new Error('job missing');
  const info = {
    reason,
    lastStatus: reason === 'not_found' ? 404 : 403,
    requestId: 'req-1',
    attempts: 1,
    throttledWaits: 0,
  };
  const id = await moveToDeadLetter(ctx, job, info);
  return { id, jobId: r.id };
}
