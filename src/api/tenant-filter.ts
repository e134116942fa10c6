// The API's side of tenant scopes (src/tenants/scope.ts): a tenant-scoped key finds only its
// tenants' jobs, dead letters and batches. Anything else answers exactly as a record that does not
// exist (404 with the same message), so a guessed id teaches nothing about other customers.
// Unscoped keys skip these reads entirely: the single-tenant path is unchanged.
import type { FastifyRequest } from 'fastify';
import { BatchNotFoundError } from '../guard/errors.js';
import { readBatch } from '../guard/store.js';
import { JobNotFoundError } from '../intake/cancel.js';
import type { QueueContext } from '../queue/context.js';
import { isValidId } from '../queue/ids.js';
import { DeadLetterNotFoundError } from '../records/dead-letter.js';
import { jobTenant } from '../tenants/lookup.js';
import { canSeeTenant, isScoped } from '../tenants/scope.js';

/** Whether the caller may see a record of `tenant`. */
export function seesTenant(request: FastifyRequest, tenant: string | undefined): boolean {
  return canSeeTenant(request.principal, tenant);
}

export function scopedRequest(request: FastifyRequest): boolean {
  return isScoped(request.principal);
}

/** A scoped key acting on another tenant's job: 404, as if there were none. */
export async function assertJobVisible(
  ctx: QueueContext,
  request: FastifyRequest,
  id: string,
): Promise<void> {
  if (!scopedRequest(request)) return;
  const found = await jobTenant(ctx, id);
  if (!found || !seesTenant(request, found.tenant)) {
    throw new JobNotFoundError(id);
  }
}

export async function assertDeadLetterVisible(
  ctx: QueueContext,
  request: FastifyRequest,
  id: string,
): Promise<void> {
  if (!scopedRequest(request)) return;
  const job = isValidId(id) ? await ctx.deadLetter.getJob(id) : undefined;
  if (!job?.data?.original || !seesTenant(request, job.data.original.tenant)) {
    throw new DeadLetterNotFoundError(id);
  }
}

export async function assertBatchVisible(
  ctx: QueueContext,
  request: FastifyRequest,
  id: string,
): Promise<void> {
  if (!scopedRequest(request)) return;
  const batch = isValidId(id) ? await readBatch(ctx, id) : null;
  if (!batch || !seesTenant(request, batch.tenant)) throw new BatchNotFoundError(id);
}
