// The evidence store: one JSON string per retire job (keys.evidence), kept EVIDENCE_RETENTION
// after its last write, apart from the BullMQ job (whose retention is much shorter). Indexes:
// - keys.evidenceByTime: job id → inventory time (ms), the export's time range;
// - keys.evidencePending / evidenceVerified / evidenceUnverified: job id → time, one set per
//   verification state, so the operators' list and the status counts are ZRANGE/ZCOUNT reads
//   (counts are computed from these sets, never kept as counters that could drift when a record
//   expires). Index entries older than the retention are pruned on every write.
// Verification updates are a compare-and-set (src/lua/evidence/update.lua) retried on conflict,
// so two verify runs (or a reverify racing a check) never lose each other's write.
import { createHash } from 'node:crypto';
import type { EvidenceRecord, Verification, VerificationState } from '../interfaces.js';
import { runScript } from '../lua/scripts.js';
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';

/** Records read per round trip when listing (ZRANGE LIMIT + MGET). */
export const EVIDENCE_PAGE_SIZE = 200;

/** Compare-and-set attempts before updateVerification gives up (only under heavy contention). */
const MAX_UPDATE_TRIES = 20;

export class EvidenceConflictError extends Error {
  override readonly name = 'EvidenceConflictError';
}

function stateIndex(prefix: string, state: VerificationState): string | undefined {
  if (state === 'pending') return keys.evidencePending(prefix);
  if (state === 'verified') return keys.evidenceVerified(prefix);
  if (state === 'unverified') return keys.evidenceUnverified(prefix);
  return undefined;
}

function stateIndexes(prefix: string): string[] {
  return [keys.evidencePending(prefix), keys.evidenceVerified(prefix), keys.evidenceUnverified(prefix)];
}

function ms(iso: string | undefined, fallback: number): number {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(t) ? t : fallback;
}

/** Score in the state index: inventory time while pending, the end of the verification after. */
function stateScore(record: EvidenceRecord, now: number): number {
  const inventoried = ms(record.inventoriedAt, now);
  if (record.verification.state === 'pending') return inventoried;
  return ms(record.verification.endedAt, now);
}

function parse(raw: string | null): EvidenceRecord | null {
  if (!raw) return null;
  try {
    return upgradeDevices(JSON.parse(raw) as EvidenceRecord);
  } catch {
    // A damaged record must not break an export of thousands.
    return null;
  }
}

/**
 * Records written before issue 18 keep the device's ownership under Graph beta's name `ownerType`:
 * read as v1.0's `managedDeviceOwnerType`, so every reader (export, API, console) knows one name.
 */
function upgradeDevices(record: EvidenceRecord): EvidenceRecord {
  if (!Array.isArray(record?.devices) || !record.devices.some((d) => d && 'ownerType' in d)) return record;
  const devices = record.devices.map((d) => {
    if (!d || !('ownerType' in d)) return d;
    const { ownerType, ...rest } = d as typeof d & { ownerType?: string | null };
    return { ...rest, managedDeviceOwnerType: rest.managedDeviceOwnerType ?? ownerType ?? null };
  });
  return { ...record, devices };
}

/** Writes (or overwrites) a job's evidence and its index entries. */
export async function saveEvidence(
  redis: RedisClient,
  prefix: string,
  record: EvidenceRecord,
  retentionMs: number,
): Promise<void> {
  const now = Date.now();
  const pruneBelow = now - retentionMs;
  const byTime = keys.evidenceByTime(prefix);
  const tx = redis.multi();
  tx.set(keys.evidence(prefix, record.jobId), JSON.stringify(record), 'PX', retentionMs);
  tx.zadd(byTime, ms(record.inventoriedAt, now), record.jobId);
  tx.zremrangebyscore(byTime, '-inf', `(${pruneBelow}`);
  for (const key of stateIndexes(prefix)) {
    tx.zrem(key, record.jobId);
    tx.zremrangebyscore(key, '-inf', `(${pruneBelow}`);
  }
  const target = stateIndex(prefix, record.verification.state);
  if (target) tx.zadd(target, stateScore(record, now), record.jobId);
  const results = await tx.exec();
  const failed = results?.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
}

export async function getEvidence(
  redis: RedisClient,
  prefix: string,
  jobId: string,
): Promise<EvidenceRecord | null> {
  return parse(await redis.get(keys.evidence(prefix, jobId)));
}

/**
 * The new verification, or a function of the current record that returns it (re-run on a
 * conflict, so it always sees the latest write) or null to leave the record as it is.
 */
export type VerificationUpdate = Verification | ((current: EvidenceRecord) => Verification | null);

/**
 * Replaces the verification of a job's evidence and keeps the state indexes in step. Returns the
 * record as written, the current one when the updater returned null, or null when there is no record.
 */
export async function updateVerification(
  redis: RedisClient,
  prefix: string,
  jobId: string,
  update: VerificationUpdate,
  retentionMs: number,
): Promise<EvidenceRecord | null> {
  const key = keys.evidence(prefix, jobId);
  for (let i = 0; i < MAX_UPDATE_TRIES; i++) {
    const raw = await redis.get(key);
    const current = parse(raw);
    if (!raw || !current) return null;
    const verification = typeof update === 'function' ? update(current) : update;
    if (!verification) return current;
    const next: EvidenceRecord = { ...current, verification };
    const now = Date.now();
    const reply = await runScript(
      redis,
      'evidence/update',
      [key, ...stateIndexes(prefix)],
      [
        createHash('sha1').update(raw).digest('hex'),
        JSON.stringify(next),
        retentionMs,
        jobId,
        verification.state,
        stateScore(next, now),
        now - retentionMs,
      ],
    );
    if (Number(reply) === 1) return next;
    if (Number(reply) === -1) return null;
  }
  throw new EvidenceConflictError(`evidence of ${jobId} kept changing: ${MAX_UPDATE_TRIES} tries`);
}

export interface ListEvidenceOptions {
  /** Inventory time bounds in ms, inclusive. */
  fromMs?: number;
  toMs?: number;
  batchId?: string;
  state?: VerificationState;
  /** Most records to yield. */
  limit?: number;
  /** Start after this position (evidenceCursor of the last record of a previous page). */
  cursor?: string;
  /** Records read per round trip (default EVIDENCE_PAGE_SIZE). */
  pageSize?: number;
}

/** Position of a record in the time order: `<inventory ms>:<job id>`, for the next page's `cursor`. */
export function evidenceCursor(record: EvidenceRecord): string {
  return `${ms(record.inventoriedAt, 0)}:${record.jobId}`;
}

export class InvalidEvidenceCursorError extends Error {
  override readonly name = 'InvalidEvidenceCursorError';
}

function parseCursor(cursor: string): { score: number; jobId: string } {
  const i = cursor.indexOf(':');
  const score = Number(cursor.slice(0, i));
  const jobId = cursor.slice(i + 1);
  if (i <= 0 || !Number.isFinite(score) || !jobId)
    throw new InvalidEvidenceCursorError('invalid evidence cursor');
  return { score, jobId };
}

/** Records in the time index within [fromMs, toMs]: the total of an export's progress (an upper
 * bound when a batch or state filter applies, or a record expired since it was indexed). */
export async function countEvidence(
  redis: RedisClient,
  prefix: string,
  fromMs: number,
  toMs: number,
): Promise<number> {
  return redis.zcount(keys.evidenceByTime(prefix), String(fromMs), String(toMs));
}

/**
 * Evidence in inventory-time order (ties by job id, Redis's order for equal scores), read a page
 * at a time so an export of a whole layoff never sits in memory. Filters on batch and state are
 * applied to each page; records that expired since they were indexed are skipped.
 */
export async function* listEvidence(
  redis: RedisClient,
  prefix: string,
  opts: ListEvidenceOptions = {},
): AsyncGenerator<EvidenceRecord> {
  const pageSize = Math.max(1, opts.pageSize ?? EVIDENCE_PAGE_SIZE);
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const max = opts.toMs === undefined ? '+inf' : String(opts.toMs);
  const after = opts.cursor ? parseCursor(opts.cursor) : undefined;
  let min = String(
    Math.max(opts.fromMs ?? Number.NEGATIVE_INFINITY, after?.score ?? Number.NEGATIVE_INFINITY),
  );
  if (min === '-Infinity') min = '-inf';
  let offset = 0;
  let yielded = 0;
  const byTime = keys.evidenceByTime(prefix);
  while (yielded < limit) {
    const page = await redis.zrangebyscore(byTime, min, max, 'WITHSCORES', 'LIMIT', offset, pageSize);
    if (page.length === 0) return;
    const ids: string[] = [];
    let lastScore = Number.NaN;
    let sameScore = 0;
    for (let i = 0; i < page.length; i += 2) {
      const id = page[i] as string;
      const score = Number(page[i + 1]);
      if (score === lastScore) sameScore++;
      else {
        lastScore = score;
        sameScore = 1;
      }
      // Entries with the cursor's score up to the cursor's job id were on the previous page.
      if (after && score === after.score && id <= after.jobId) continue;
      ids.push(id);
    }
    // Next page: from the last score seen, skipping the entries with that score already read.
    // Keeps the order stable even when many records share one millisecond.
    if (String(lastScore) === min) offset += page.length / 2;
    else {
      min = String(lastScore);
      offset = sameScore;
    }
    if (ids.length > 0) {
      const raws = await redis.mget(...ids.map((id) => keys.evidence(prefix, id)));
      for (const raw of raws) {
        const record = parse(raw);
        if (!record) continue;
        if (opts.batchId !== undefined && record.batchId !== opts.batchId) continue;
        if (opts.state !== undefined && record.verification.state !== opts.state) continue;
        yield record;
        if (++yielded >= limit) return;
      }
    }
    if (page.length / 2 < pageSize) return;
  }
}

/** The operators' list: leavers whose verification ended unverified, newest first. */
export async function listUnverified(
  redis: RedisClient,
  prefix: string,
  opts: { limit?: number } = {},
): Promise<EvidenceRecord[]> {
  const limit = Math.max(1, Math.min(opts.limit ?? 100, 10_000));
  const ids = await redis.zrevrange(keys.evidenceUnverified(prefix), 0, limit - 1);
  if (ids.length === 0) return [];
  const raws = await redis.mget(...ids.map((id) => keys.evidence(prefix, id)));
  const out: EvidenceRecord[] = [];
  const gone: string[] = [];
  raws.forEach((raw, i) => {
    const record = parse(raw);
    if (record && record.verification.state === 'unverified') out.push(record);
    else if (!raw) gone.push(ids[i] as string);
  });
  // Expired records leave their index entry behind until the next prune: drop them now.
  if (gone.length > 0) await redis.zrem(keys.evidenceUnverified(prefix), ...gone);
  return out;
}

export interface VerificationCounts {
  pending: number;
  verified: number;
  unverified: number;
}

/**
 * Leavers per verification state, from the state indexes (three ZCOUNTs, no record read). With
 * retentionMs only entries within the retention count (index entries are pruned on writes only).
 */
export async function countByVerificationState(
  redis: RedisClient,
  prefix: string,
  retentionMs?: number,
): Promise<VerificationCounts> {
  const min = retentionMs === undefined ? '-inf' : String(Date.now() - retentionMs);
  const pipeline = redis.pipeline();
  pipeline.zcount(keys.evidencePending(prefix), min, '+inf');
  pipeline.zcount(keys.evidenceVerified(prefix), min, '+inf');
  pipeline.zcount(keys.evidenceUnverified(prefix), min, '+inf');
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
  const n = (i: number) => Number(results[i]?.[1] ?? 0);
  return { pending: n(0), verified: n(1), unverified: n(2) };
}
