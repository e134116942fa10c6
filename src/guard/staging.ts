// Staging a bulk submission in Redis: items go to the batch's list as they are read, users are
// deduplicated with a Redis set, so a 100 000-row import needs constant memory in the process.
// Until it is committed as a held batch, the staging keys expire on their own: a crashed import
// leaves nothing behind.
import { randomUUID } from 'node:crypto';
import { type BulkItemResult, enqueueMany, type IntakeMeta } from '../intake/enqueue.js';
import { runScript } from '../lua/scripts.js';
import type { QueueContext } from '../queue/context.js';
import { keys } from '../queue/names.js';
import type { StagedItem } from './types.js';

/** Lifetime of uncommitted staging keys, renewed by every chunk. */
const STAGING_TTL_MS = 3_600_000;
const SAMPLE_SIZE = 10;

export interface Staging {
  id: string;
  /** Distinct valid users staged so far. */
  count: number;
  /** Repeats of an already staged user. */
  duplicate: number;
  sample: string[];
}

export function openStaging(id: string = randomUUID()): Staging {
  return { id, count: 0, duplicate: 0, sample: [] };
}

/**
 * Stages one chunk. Returns, per item, whether it was the first occurrence of its user. With
 * `keepItems: false` only the user set is written (a plan's duplicate detection).
 */
export async function stageChunk(
  ctx: Pick<QueueContext, 'redis' | 'prefix'>,
  st: Staging,
  items: readonly StagedItem[],
  opts: { keepItems: boolean },
): Promise<boolean[]> {
  if (items.length === 0) return [];
  const args: string[] = [String(STAGING_TTL_MS), opts.keepItems ? '1' : '0'];
  for (const item of items) args.push(item.r.user, opts.keepItems ? JSON.stringify(item) : '');
  const raw = (await runScript(
    ctx.redis,
    'guard/stage',
    [keys.batchUsers(ctx.prefix, st.id), keys.batchItems(ctx.prefix, st.id)],
    args,
  )) as number[];
  return items.map((item, i) => {
    const first = raw[i] === 1;
    if (first) {
      st.count++;
      if (st.sample.length < SAMPLE_SIZE) st.sample.push(item.r.user);
    } else st.duplicate++;
    return first;
  });
}

export async function dropStaging(ctx: Pick<QueueContext, 'redis' | 'prefix'>, id: string): Promise<void> {
  await ctx.redis.del(keys.batchUsers(ctx.prefix, id), keys.batchItems(ctx.prefix, id));
}

export interface EnqueueStagedOptions {
  /** First list position to enqueue (the resume point of an interrupted approval). Default 0. */
  from?: number;
  /** Items per LRANGE and addBulk. Default 1000. */
  chunkSize?: number;
  /** Called after each chunk is durably in the queue; results carry the item's `n` as index. */
  onChunk?: (results: BulkItemResult[], done: number) => Promise<void> | void;
}

/** Reads the staged list in chunks and enqueues each through enqueueMany (usual deduplication). */
export async function enqueueStaged(
  ctx: QueueContext,
  id: string,
  meta: IntakeMeta,
  opts: EnqueueStagedOptions = {},
): Promise<void> {
  const size = opts.chunkSize ?? 1000;
  const key = keys.batchItems(ctx.prefix, id);
  let done = opts.from ?? 0;
  for (;;) {
    const rows = await ctx.redis.lrange(key, done, done + size - 1);
    if (rows.length === 0) return;
    const items = rows.map((row) => JSON.parse(row) as StagedItem);
    const results = await enqueueMany(
      ctx,
      items.map((i) => i.r),
      meta,
      { chunkSize: size },
    );
    for (const r of results) r.index = (items[r.index] as StagedItem).n;
    done += rows.length;
    await opts.onChunk?.(results, done);
    if (rows.length < size) return;
  }
}

/** The staged distinct users (only asked for small stagings: at most GUARD_THRESHOLD of them). */
export async function stagedUsers(
  ctx: Pick<QueueContext, 'redis' | 'prefix'>,
  id: string,
): Promise<string[]> {
  return ctx.redis.smembers(keys.batchUsers(ctx.prefix, id));
}
