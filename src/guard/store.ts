// Redis representation of batches. A batch is a hash (its summary and state), a list of its
// items, and an entry in the batches index (a sorted set by creation time). Every state change
// is one Lua script, so two operators approving at once cannot both win.
import type { Source } from '../interfaces.js';
import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { keys, ownKey } from '../queue/names.js';
import { normaliseActor } from './actor.js';
import { HeldLimitError, type HeldLimitScope } from './errors.js';
import { BATCH_STATES, type BatchState, type BatchSummary } from './types.js';

type Ctx = Pick<QueueContext, 'redis' | 'prefix' | 'config'>;

/** How long an approval may run without progress before another call may resume it. */
export const APPROVAL_LEASE_MS = 60_000;

export interface NewBatch {
  id: string;
  source: Source;
  submittedBy: string;
  createdAtMs: number;
  expiresAtMs: number;
  count: number;
  invalid: number;
  duplicate: number;
  dryRun: boolean;
  sample: string[];
  /** A wipe batch (src/guard/wipe-hold.ts) and its devices to wipe or delete. */
  kind?: 'wipe';
  devices?: number;
  /** TENANTS_FILE: the tenant of every item (a submission is for one tenant). */
  tenant?: string;
}

function num(v: string | undefined): number {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

export function toSummary(h: Record<string, string>): BatchSummary | null {
  if (!h.id || !h.state) return null;
  const state = (BATCH_STATES as readonly string[]).includes(h.state) ? (h.state as BatchState) : 'held';
  let sample: string[] = [];
  try {
    sample = JSON.parse(h.sample ?? '[]') as string[];
  } catch {
    // A damaged sample must not hide the batch.
  }
  const out: BatchSummary = {
    id: h.id,
    state,
    source: (h.source ?? 'batch') as Source,
    submittedBy: h.submittedBy ?? 'unknown',
    createdAt: new Date(num(h.createdAtMs)).toISOString(),
    expiresAt: new Date(num(h.expiresAtMs)).toISOString(),
    count: num(h.count),
    invalid: num(h.invalid),
    duplicate: num(h.duplicate),
    dryRun: h.dryRun === '1',
    sample,
    version: num(h.version) || 1,
  };
  if (h.tenant) out.tenant = h.tenant;
  if (h.decidedBy) out.decidedBy = h.decidedBy;
  if (h.decidedAtMs) out.decidedAt = new Date(num(h.decidedAtMs)).toISOString();
  if (h.reason) out.reason = h.reason;
  if (h.kind === 'wipe') {
    out.kind = 'wipe';
    out.devices = num(h.devices);
  }
  if (state === 'approving' || state === 'approved') {
    out.enqueued = num(h.enqueued);
    out.result = {
      accepted: num(h.accepted),
      duplicate: num(h.dupOnApprove),
      invalid: num(h.invalidOnApprove),
    };
  }
  return out;
}

export async function readBatch(ctx: Ctx, id: string): Promise<BatchSummary | null> {
  const h = (await ctx.redis.hgetall(keys.batch(ctx.prefix, id))) as Record<string, string>;
  return toSummary(h);
}

/** Newest first; index entries whose batch has aged out of retention are pruned on the way. */
export async function readAllBatches(ctx: Ctx, limit: number): Promise<BatchSummary[]> {
  const ids = await ctx.redis.zrevrange(keys.batches(ctx.prefix), 0, Math.max(0, limit - 1));
  if (ids.length === 0) return [];
  const pipeline = ctx.redis.pipeline();
  for (const id of ids) pipeline.hgetall(keys.batch(ctx.prefix, id));
  const rows = (await pipeline.exec()) ?? [];
  const out: BatchSummary[] = [];
  const gone: string[] = [];
  rows.forEach(([err, h], i) => {
    if (err) throw err;
    const s = toSummary(h as Record<string, string>);
    if (s) out.push(s);
    else gone.push(ids[i] as string);
  });
  if (gone.length > 0) await ctx.redis.zrem(keys.batches(ctx.prefix), ...gone);
  return out;
}

/**
 * What held batches cost, per submitter and in total: a hash of `batches:<actor>`,
 * `items:<actor>` and `items`. It changes only inside the scripts that move a batch into or out
 * of `held`, so it is exact: charged by write-held.lua, released (once: `heldBy` is removed) by
 * the approve, reject and expire transitions (src/lua/guard/).
 */
export function heldUsageKey(prefix: string): string {
  return ownKey(prefix, 'held-usage');
}

/**
 * Commits a staged batch as held: summary, index entry, lifetimes and the held-usage charge in one
 * script. Throws HeldLimitError (and drops the staged items) when a cap would be passed.
 */
export async function writeHeld(ctx: Ctx, b: NewBatch): Promise<void> {
  const hk = keys.batch(ctx.prefix, b.id);
  const ik = keys.batchItems(ctx.prefix, b.id);
  // The records outlive the decision by the retention period so operators can look back.
  const keepMs = b.expiresAtMs - b.createdAtMs + ctx.config.retention.completedAgeMs;
  const { maxHeldBatchesPerKey, maxHeldItemsPerKey, maxHeldItems } = ctx.config.guard;
  const fields: Record<string, string> = {
    id: b.id,
    state: 'held',
    source: b.source,
    submittedBy: b.submittedBy,
    createdAtMs: String(b.createdAtMs),
    expiresAtMs: String(b.expiresAtMs),
    count: String(b.count),
    invalid: String(b.invalid),
    duplicate: String(b.duplicate),
    dryRun: b.dryRun ? '1' : '0',
    sample: JSON.stringify(b.sample),
    version: '1',
    ...(b.kind ? { kind: b.kind, devices: String(b.devices ?? 0) } : {}),
    ...(b.tenant ? { tenant: b.tenant } : {}),
  };
  const raw = (await runScript(
    ctx.redis,
    'guard/write-held',
    [hk, ik, keys.batches(ctx.prefix), keys.batchUsers(ctx.prefix, b.id), heldUsageKey(ctx.prefix)],
    [
      normaliseActor(b.submittedBy),
      b.count,
      maxHeldBatchesPerKey,
      maxHeldItemsPerKey,
      maxHeldItems,
      keepMs,
      b.createdAtMs,
      b.id,
      ...Object.entries(fields).flat(),
    ],
  )) as string[];
  if (raw[0] !== 'ok') {
    throw new HeldLimitError(raw[0] as HeldLimitScope, Number(raw[1]), Number(raw[2]), b.count);
  }
}

/** Held batches and items of one submitter and in total (what the caps compare). */
export async function heldUsage(
  ctx: Ctx,
  actor: string,
): Promise<{ batches: number; items: number; totalItems: number }> {
  const a = normaliseActor(actor);
  const [nb, ni, nt] = await ctx.redis.hmget(heldUsageKey(ctx.prefix), `batches:${a}`, `items:${a}`, 'items');
  return { batches: num(nb ?? undefined), items: num(ni ?? undefined), totalItems: num(nt ?? undefined) };
}

export type ApproveOutcome =
  | { kind: 'ok' | 'resume' | 'expired' | 'missing' | 'two_person' }
  | { kind: 'state'; state: BatchState }
  /** The batch is at another version than the one the decider reviewed (it took items since). */
  | { kind: 'changed'; version: number; count: number };

function outcome(raw: unknown): ApproveOutcome {
  const [kind, state, count] = raw as [string, string | undefined, string | undefined];
  if (kind === 'state') return { kind, state: (state ?? 'held') as BatchState };
  if (kind === 'changed') return { kind, version: num(state), count: num(count) };
  return { kind: kind as 'ok' };
}

export async function tryApprove(
  ctx: Ctx,
  id: string,
  actor: string,
  now: number,
  twoPerson: boolean,
  version: number,
): Promise<ApproveOutcome> {
  const raw = await runScript(
    ctx.redis,
    'guard/approve',
    [keys.batch(ctx.prefix, id), heldUsageKey(ctx.prefix)],
    [now, actor, twoPerson ? '1' : '0', APPROVAL_LEASE_MS, normaliseActor(actor), String(version)],
  );
  return outcome(raw);
}

export async function tryReject(
  ctx: Ctx,
  id: string,
  actor: string,
  now: number,
  reason: string,
  version: number,
): Promise<ApproveOutcome> {
  return outcome(
    await runScript(
      ctx.redis,
      'guard/reject',
      [keys.batch(ctx.prefix, id), heldUsageKey(ctx.prefix)],
      [now, actor, reason, String(version)],
    ),
  );
}

export async function tryExpire(ctx: Ctx, id: string, now: number): Promise<boolean> {
  return (
    (await runScript(
      ctx.redis,
      'guard/expire',
      [keys.batch(ctx.prefix, id), heldUsageKey(ctx.prefix)],
      [now],
    )) === 1
  );
}

/** Records progress of an approval after a chunk is in the queue, and renews the lease. */
export async function recordProgress(
  ctx: Ctx,
  id: string,
  done: { items: number; accepted: number; duplicate: number; invalid: number },
): Promise<void> {
  const hk = keys.batch(ctx.prefix, id);
  await ctx.redis
    .multi()
    .hincrby(hk, 'enqueued', done.items)
    .hincrby(hk, 'accepted', done.accepted)
    .hincrby(hk, 'dupOnApprove', done.duplicate)
    .hincrby(hk, 'invalidOnApprove', done.invalid)
    .hset(hk, 'leaseUntil', String(Date.now() + APPROVAL_LEASE_MS))
    .exec();
}

export async function finishApproval(ctx: Ctx, id: string): Promise<void> {
  await ctx.redis
    .multi()
    .hset(keys.batch(ctx.prefix, id), 'state', 'approved', 'leaseUntil', '0')
    .del(keys.batchItems(ctx.prefix, id))
    .exec();
}

/** Lets a failed approval be retried at once instead of after the lease. */
export async function releaseLease(ctx: Ctx, id: string): Promise<void> {
  await ctx.redis.hset(keys.batch(ctx.prefix, id), 'leaseUntil', '0');
}

export async function dropItems(ctx: Ctx, id: string): Promise<void> {
  await ctx.redis.del(keys.batchItems(ctx.prefix, id), keys.batchUsers(ctx.prefix, id));
}

export async function batchIds(ctx: Ctx): Promise<string[]> {
  // ioredis 6 types ZRANGE's bounds as strings (Redis reads numbers either way).
  return ctx.redis.zrange(keys.batches(ctx.prefix), '0', '-1');
}
