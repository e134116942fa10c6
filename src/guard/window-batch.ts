// Single requests held by the guard's window gather in one open batch per actor instead of one
// batch each: an HR system that keeps sending leavers one by one past GUARD_WINDOW gives operators
// one batch to review (and approve, or reject) rather than hundreds, and stays within the caps on
// held batches. A batch takes new items only while it is held and unexpired; once an operator
// decides it, the next held request opens a new one.

import type { QueueContext } from '../queue/context.js';
import { keys, ownKey } from '../queue/names.js';
import { normaliseActor } from './actor.js';
import { HeldLimitError, type HeldLimitScope } from './errors.js';
import { heldUsageKey } from './store.js';
import type { StagedItem } from './types.js';

type Ctx = Pick<QueueContext, 'redis' | 'prefix' | 'config'>;

const SAMPLE_SIZE = 10;

/** The actor's open window batch (its id), kept while the batch may take items. */
export function windowBatchKey(prefix: string, actor: string): string {
  return ownKey(prefix, 'guard-window', 'open-batch', normaliseActor(actor));
}

function windowUsersKey(prefix: string, id: string): string {
  return ownKey(prefix, 'batch', id, 'window-users');
}

// KEYS: batch hash, items list, window users set, usage hash. ARGV: now, actor key, user, item JSON,
// max items per actor, max items in total.
// Returns {'ok'} | {'duplicate'} | {'closed'} | {scope, limit, current}.
const APPEND = `
local f = redis.call('HMGET', KEYS[1], 'state', 'expiresAtMs', 'heldBy', 'sample', 'count')
if f[1] ~= 'held' or tonumber(f[2] or '0') <= tonumber(ARGV[1]) or f[3] ~= ARGV[2] then return {'closed'} end
if redis.call('SADD', KEYS[3], ARGV[3]) == 0 then return {'duplicate'} end
local u = redis.call('HMGET', KEYS[4], 'items:' .. ARGV[2], 'items')
local ni, nt = tonumber(u[1] or '0'), tonumber(u[2] or '0')
local refused
if ni + 1 > tonumber(ARGV[5]) then refused = {'items_per_key', ARGV[5], tostring(ni)}
elseif nt + 1 > tonumber(ARGV[6]) then refused = {'items_total', ARGV[6], tostring(nt)} end
if refused then
  redis.call('SREM', KEYS[3], ARGV[3])
  return refused
end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('HINCRBY', KEYS[1], 'count', 1)
local sample = cjson.decode(f[4] or '[]')
if #sample < ${SAMPLE_SIZE} then
  table.insert(sample, ARGV[3])
  redis.call('HSET', KEYS[1], 'sample', cjson.encode(sample))
end
redis.call('PEXPIRE', KEYS[3], redis.call('PTTL', KEYS[1]))
redis.call('HINCRBY', KEYS[4], 'items:' .. ARGV[2], 1)
redis.call('HINCRBY', KEYS[4], 'items', 1)
return {'ok'}
`;

/**
 * Adds one request to the actor's open window batch. Returns the batch id it joined (also when the
 * user was already in it), or null when there is no open batch to join. Throws HeldLimitError when
 * a cap on held items would be passed.
 */
export async function appendToWindowBatch(ctx: Ctx, actor: string, item: StagedItem): Promise<string | null> {
  const id = await ctx.redis.get(windowBatchKey(ctx.prefix, actor));
  if (!id) return null;
  const { maxHeldItemsPerKey, maxHeldItems } = ctx.config.guard;
  const raw = (await ctx.redis.eval(
    APPEND,
    4,
    keys.batch(ctx.prefix, id),
    keys.batchItems(ctx.prefix, id),
    windowUsersKey(ctx.prefix, id),
    heldUsageKey(ctx.prefix),
    String(Date.now()),
    normaliseActor(actor),
    item.r.user,
    JSON.stringify(item),
    String(maxHeldItemsPerKey),
    String(maxHeldItems),
  )) as string[];
  if (raw[0] === 'ok' || raw[0] === 'duplicate') return id;
  if (raw[0] === 'closed') return null;
  throw new HeldLimitError(raw[0] as HeldLimitScope, Number(raw[1]), Number(raw[2]), 1);
}

/** Makes a freshly held batch of one the actor's open window batch (its first user recorded). */
export async function openWindowBatch(ctx: Ctx, actor: string, id: string, user: string): Promise<void> {
  const ttl = ctx.config.guard.ttlMs;
  await ctx.redis
    .multi()
    .set(windowBatchKey(ctx.prefix, actor), id, 'PX', ttl)
    .sadd(windowUsersKey(ctx.prefix, id), user)
    .pexpire(windowUsersKey(ctx.prefix, id), ttl)
    .exec();
}
