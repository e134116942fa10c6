// What a producer may learn from an intake answer. A duplicate answer names the pending job and its
// moment; when that job was requested by someone else (another producer, a sweep, an operator),
// that tells one HR system who else is leaving and when. So for a producer, a user pending through
// another requester reads exactly like an ordinary request of its own: a job id of its own (a
// stable stand-in derived from the real one, never the real one), the state and moment it asked
// for, `duplicate: false` the first time and `duplicate: true` on its repeats. Viewers and
// operators get the real answer. The job itself is unchanged: an earlier moment still brings it
// forward (audited), as for any duplicate.
import { createHash } from 'node:crypto';
import type { QueueContext } from '../queue/context.js';
import { ownKey } from '../queue/names.js';
import type { BulkItemResult, EnqueueResult } from './enqueue.js';

/** How long a producer's view of someone else's job is remembered after the moment it asked for. */
const VIEW_KEEP_MS = 24 * 3_600_000;

type Ctx = Pick<QueueContext, 'redis' | 'prefix' | 'retire'>;

/** A job id of the producer's own for someone else's job: stable per (producer, job), unguessable. */
export function standInId(actor: string, jobId: string): string {
  const h = createHash('sha256').update(`offboard:stand-in:${actor}:${jobId}`).digest('hex');
  // UUID-shaped (version 4 nibble and variant bits), like every id intake hands out.
  const v = `4${h.slice(13, 16)}`;
  const variant = ((Number.parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${v}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The requesters of these jobs (absent when the job is gone): one pipelined HGET per 1000 jobs. */
async function requestersOf(ctx: Ctx, ids: readonly string[]): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  const distinct = [...new Set(ids)];
  for (let i = 0; i < distinct.length; i += 1000) {
    const chunk = distinct.slice(i, i + 1000);
    const pipe = ctx.redis.pipeline();
    for (const id of chunk) pipe.hget(ctx.retire.toKey(id), 'data');
    const rows = (await pipe.exec()) ?? [];
    for (const [k, id] of chunk.entries()) {
      const [err, raw] = rows[k] ?? [null, null];
      if (err) throw err;
      out.set(id, requesterIn(raw));
    }
  }
  return out;
}

function requesterIn(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const by = (JSON.parse(raw) as { requestedBy?: unknown }).requestedBy;
    return typeof by === 'string' ? by : undefined;
  } catch {
    return undefined;
  }
}

/** True when the job was requested by someone other than `actor`. */
export async function requestedBySomeoneElse(ctx: Ctx, jobId: string, actor: string): Promise<boolean> {
  return (await requestersOf(ctx, [jobId])).get(jobId) !== actor;
}

/** Of these pending job ids, those someone other than `actor` requested. */
export async function othersJobs(ctx: Ctx, ids: readonly string[], actor: string): Promise<Set<string>> {
  const by = await requestersOf(ctx, ids);
  return new Set([...by].filter(([, who]) => who !== actor).map(([id]) => id));
}

/**
 * The answer an ordinary request of `actor` would have got, for a request that folded into someone
 * else's pending job. `effectiveAt` is what this request asked for (validated, absent = now).
 */
async function ownView(
  ctx: Ctx,
  jobId: string,
  user: string,
  actor: string,
  effectiveAt: string | undefined,
): Promise<EnqueueResult> {
  const id = standInId(actor, jobId);
  const wanted = effectiveAt ? Date.parse(effectiveAt) : 0;
  const key = ownKey(ctx.prefix, 'stand-in', id);
  const ttl = Math.max(0, wanted - Date.now()) + VIEW_KEEP_MS;
  // The first request of this producer for this job keeps the moment it asked for ('' = now).
  const first = await ctx.redis.set(key, effectiveAt ?? '', 'PX', ttl, 'NX');
  let moment = effectiveAt;
  let broughtForward = false;
  if (first !== 'OK') {
    const before = (await ctx.redis.get(key)) ?? '';
    const beforeMs = before ? Date.parse(before) : 0;
    if (before && wanted < beforeMs) {
      broughtForward = true;
      await ctx.redis.set(key, effectiveAt ?? '', 'PX', ttl);
    } else moment = before || undefined;
  }
  const due = moment ? Date.parse(moment) : 0;
  return {
    id,
    user,
    state: due > Date.now() ? 'delayed' : 'waiting',
    duplicate: first !== 'OK',
    ...(moment ? { effectiveAt: moment } : {}),
    ...(broughtForward ? { broughtForward } : {}),
  };
}

/**
 * The producer's own callback must be known to wait on the job (or not, and why): Lifecycle Workflows
 * would otherwise wait for a resume that never comes. That says something only about its own callback.
 */
function withCallback(view: EnqueueResult, result: EnqueueResult): EnqueueResult {
  // What will happen to the leaver's devices is told even for someone else's job: a producer must
  // not believe a profile applies that does not (DEVICE_POLICY_FILE).
  if (result.devicePolicy) {
    view = {
      ...view,
      devicePolicy: result.devicePolicy,
      ...(result.requestedDevicePolicy ? { requestedDevicePolicy: result.requestedDevicePolicy } : {}),
    };
  }
  if (result.callbackAttached === undefined) return view;
  return {
    ...view,
    callbackAttached: result.callbackAttached,
    ...(result.callbackReason ? { callbackReason: result.callbackReason } : {}),
  };
}

/** One request's answer as `actor` (a producer) may see it. */
export async function producerView(
  ctx: Ctx,
  result: EnqueueResult,
  actor: string,
  effectiveAt: string | undefined,
): Promise<EnqueueResult> {
  if (!result.duplicate || !(await requestedBySomeoneElse(ctx, result.id, actor))) return result;
  return withCallback(await ownView(ctx, result.id, result.user, actor, effectiveAt), result);
}

/**
 * A bulk submission's results as `actor` (a producer) may see them, in index order: the first item
 * of a user pending through someone else reads as accepted (or as its own duplicate on a repeat
 * submission); repeats inside the submission keep `duplicate` but name the stand-in id.
 * `effectiveAtOf(index)` is what that item asked for.
 */
export async function producerBulkView(
  ctx: Ctx,
  results: BulkItemResult[],
  actor: string,
  effectiveAtOf: (index: number) => string | undefined,
): Promise<BulkItemResult[]> {
  const dupIds = results.flatMap((r) => (r.status === 'duplicate' && r.id ? [r.id] : []));
  if (dupIds.length === 0) return results;
  const foreign = await othersJobs(ctx, dupIds, actor);
  if (foreign.size === 0) return results;
  const seen = new Set<string>();
  const out: BulkItemResult[] = [];
  for (const r of [...results].sort((a, b) => a.index - b.index)) {
    if (r.status !== 'duplicate' || !foreign.has(r.id)) {
      out.push(r);
      continue;
    }
    if (seen.has(r.id)) {
      out.push({ ...r, id: standInId(actor, r.id) });
      continue;
    }
    seen.add(r.id);
    const view = withCallback(await ownView(ctx, r.id, r.user, actor, effectiveAtOf(r.index)), {
      ...r,
      callbackAttached: undefined,
    });
    out.push({ index: r.index, status: view.duplicate ? 'duplicate' : 'accepted', ...view });
  }
  return out;
}
