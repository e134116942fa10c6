// Single requests held by the guard's window gather in one open batch per actor instead of one
// batch each: an HR system that keeps sending leavers one by one past GUARD_WINDOW gives operators
// one batch to review (and approve, or reject) rather than hundreds, and stays within the caps on
// held batches. A batch takes new items only while it is held and unexpired; once an operator
// decides it, the next held request opens a new one.

import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { keys, ownKey } from '../queue/names.js';
import { normaliseActor } from './actor.js';
import { HeldLimitError, type HeldLimitScope } from './errors.js';
import { heldUsageKey } from './store.js';
import type { StagedItem } from './types.js';

type Ctx = Pick<QueueContext, 'redis' | 'prefix' | 'config'>;

const SAMPLE_SIZE = 10;

/**
 * The actor's open window batch (its id), kept while the batch may take items. With tenants, one per
 * actor and tenant: a held batch belongs to one tenant (a scoped key sees it only if it is its own).
 */
export function windowBatchKey(prefix: string, actor: string, tenant?: string): string {
  const base = ownKey(prefix, 'guard-window', 'open-batch', normaliseActor(actor));
  return tenant ? `${base}:tenant:${tenant}` : base;
}

function windowUsersKey(prefix: string, id: string): string {
  return ownKey(prefix, 'batch', id, 'window-users');
}

/**
 * Adds one request to the actor's open window batch. Returns the batch id it joined, with `added`
 * false when the user was already in it (a repeat: the batch, its version and the audit are left as
 * they are), or null when there is no open batch to join. Throws HeldLimitError when a cap on held
 * items would be passed.
 */
export async function appendToWindowBatch(
  ctx: Ctx,
  actor: string,
  item: StagedItem,
  /** Where the open batch's id is kept; default the window's (wipe holds keep their own). */
  openKey: string = windowBatchKey(ctx.prefix, actor, item.r.tenant),
): Promise<{ id: string; added: boolean } | null> {
  const id = await ctx.redis.get(openKey);
  if (!id) return null;
  const { maxHeldItemsPerKey, maxHeldItems } = ctx.config.guard;
  const raw = (await runScript(
    ctx.redis,
    'guard/window-batch-append',
    [
      keys.batch(ctx.prefix, id),
      keys.batchItems(ctx.prefix, id),
      windowUsersKey(ctx.prefix, id),
      heldUsageKey(ctx.prefix),
    ],
    [
      Date.now(),
      normaliseActor(actor),
      item.r.user,
      JSON.stringify(item),
      maxHeldItemsPerKey,
      maxHeldItems,
      SAMPLE_SIZE,
    ],
  )) as string[];
  if (raw[0] === 'ok' || raw[0] === 'duplicate') return { id, added: raw[0] === 'ok' };
  if (raw[0] === 'closed') return null;
  throw new HeldLimitError(raw[0] as HeldLimitScope, Number(raw[1]), Number(raw[2]), 1);
}

/** Makes a freshly held batch of one the actor's open window batch (its first user recorded). */
export async function openWindowBatch(
  ctx: Ctx,
  actor: string,
  id: string,
  user: string,
  tenant?: string,
  /** Where the open batch's id is kept; default the window's (wipe holds keep their own). */
  openKey: string = windowBatchKey(ctx.prefix, actor, tenant),
): Promise<void> {
  const ttl = ctx.config.guard.ttlMs;
  await ctx.redis
    .multi()
    .set(openKey, id, 'PX', ttl)
    .sadd(windowUsersKey(ctx.prefix, id), user)
    .pexpire(windowUsersKey(ctx.prefix, id), ttl)
    .exec();
}
