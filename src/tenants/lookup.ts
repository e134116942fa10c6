// Which tenant a record belongs to when the record itself does not say: a retire job (or its dead
// letter once the job aged out) carries `data.tenant`, a held batch its `tenant`. Used to scope the
// API by id and to filter the audit export by tenant.
import { readBatch } from '../guard/store.js';
import type { AuditRecord } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { isValidId } from '../queue/ids.js';
import { deadLetterId } from '../queue/names.js';

/** The tenant of a retire job (absent when it has none); null: no such job. */
export async function jobTenant(ctx: QueueContext, id: string): Promise<{ tenant?: string } | null> {
  if (!isValidId(id)) return null;
  const job = await ctx.retire.getJob(id);
  if (job?.data?.user) return job.data.tenant ? { tenant: job.data.tenant } : {};
  const dl = await ctx.deadLetter.getJob(deadLetterId(id));
  const original = dl?.data?.original;
  if (original) return original.tenant ? { tenant: original.tenant } : {};
  return null;
}

/**
 * The tenant of an audit entry: its own `details.tenant`, else its job's, else its batch's (each
 * looked up once per export). Entries about neither (a pause, a circuit) belong to no tenant.
 */
export function auditTenantResolver(ctx: QueueContext): (rec: AuditRecord) => Promise<string | undefined> {
  const jobs = new Map<string, string | undefined>();
  const batches = new Map<string, string | undefined>();
  return async (rec) => {
    const details = rec.details as { tenant?: unknown; batchId?: unknown } | undefined;
    if (typeof details?.tenant === 'string') {
      if (rec.jobId) jobs.set(rec.jobId, details.tenant);
      return details.tenant;
    }
    if (rec.jobId) {
      if (!jobs.has(rec.jobId)) jobs.set(rec.jobId, (await jobTenant(ctx, rec.jobId))?.tenant);
      return jobs.get(rec.jobId);
    }
    if (typeof details?.batchId === 'string') {
      const id = details.batchId;
      if (!batches.has(id)) batches.set(id, isValidId(id) ? (await readBatch(ctx, id))?.tenant : undefined);
      return batches.get(id);
    }
    return undefined;
  };
}
