// The tenant step of the front door (TENANTS_FILE, issue 22): every request is resolved to the
// tenant it belongs to before the guard sees it (src/values/tenant.ts has the rules). A submission
// is for one tenant: its held batch, guard window and approval belong to that tenant, so a bulk
// item naming another tenant than the submission's is refused as an invalid item (split the file
// per tenant) rather than mixing customers in one batch.

import type { BulkInput } from '../guard/pipeline.js';
import type { IntakeMeta } from '../intake/enqueue.js';
import type { QueueContext } from '../queue/context.js';
import { configuredTenants } from '../tenants/scope.js';
import { InvalidRequestError } from '../values/invalid-request.js';
import { resolveTenant, TenantForbiddenError } from '../values/tenant.js';

type Ctx = Pick<QueueContext, 'config'>;

/** The tenant of one request (throws InvalidRequestError 400 or TenantForbiddenError 403). */
export function requestTenant(ctx: Ctx, given: unknown, meta: IntakeMeta): string | undefined {
  return resolveTenant(configuredTenants(ctx.config), given, meta.tenantScope ?? 'all');
}

/**
 * Resolves each bulk item's tenant (its own `tenant`, else the submission's `meta.tenant`, else the
 * only one the caller could mean) and fills it in. The first resolved tenant becomes the
 * submission's (`meta.tenant`, which the guard's hold records). Works on arrays and streams.
 */
export function withTenants(
  ctx: Ctx,
  input: Iterable<BulkInput> | AsyncIterable<BulkInput>,
  meta: IntakeMeta,
): Iterable<BulkInput> | AsyncIterable<BulkInput> {
  const configured = configuredTenants(ctx.config);
  // Without a tenants file nothing changes (an item naming a tenant is refused by resolveTenant).
  const one = (x: BulkInput): BulkInput => {
    if ('refused' in x) return x;
    const item = x.item;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return x;
    const own = (item as { tenant?: unknown }).tenant;
    let tenant: string | undefined;
    try {
      tenant = resolveTenant(configured, own ?? meta.tenant, meta.tenantScope ?? 'all');
    } catch (err) {
      if (err instanceof InvalidRequestError || err instanceof TenantForbiddenError) {
        return { n: x.n, refused: err.message, user: (item as { user?: unknown }).user };
      }
      throw err;
    }
    if (tenant === undefined) return x;
    if (meta.tenant === undefined) meta.tenant = tenant;
    else if (tenant !== meta.tenant) {
      return {
        n: x.n,
        refused: `tenant "${tenant}" differs from this submission's tenant: a submission is for one tenant`,
        user: (item as { user?: unknown }).user,
      };
    }
    return { ...x, item: { ...(item as Record<string, unknown>), tenant } };
  };
  if (configured.length === 0) return input;
  if (Symbol.asyncIterator in input) {
    const source = input as AsyncIterable<BulkInput>;
    return (async function* () {
      for await (const x of source) yield one(x);
    })();
  }
  const source = input as Iterable<BulkInput>;
  return (function* () {
    for (const x of source) yield one(x);
  })();
}
