// Reads the truth from Redis: which accepted jobs ended retired, which stalled, what is left.
// Read straight from BullMQ's keys in one pipeline so 1,000 jobs are checked in one round trip.
import type { Redis } from 'ioredis';
import type { DeadLetterData, RetireRecord } from '../../../src/interfaces.js';

export interface JobTruth {
  id: string;
  exists: boolean;
  completed: boolean;
  outcome?: string;
  user?: string;
  /** Graph calls the worker recorded for the job (RetireRecord.attempts). */
  graphCalls?: number;
  /** BullMQ attempts made (failed attempts before the successful one). */
  attemptsMade: number;
  /** Times stall detection moved the job back to wait (`stc`). */
  stalled: number;
}

export interface Truth {
  jobs: JobTruth[];
  retired: number;
  notRetired: JobTruth[];
  stalledJobs: number;
  counts: Record<string, number>;
  deadLetters: number;
}

const STATES = ['wait', 'paused', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

export async function queueCounts(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const base = `${prefix}:retire:`;
  const p = redis.pipeline();
  for (const s of STATES) {
    if (s === 'wait' || s === 'paused' || s === 'active') p.llen(base + s);
    else p.zcard(base + s);
  }
  p.llen(`${prefix}:dead-letter:wait`);
  const res = (await p.exec()) ?? [];
  const out: Record<string, number> = {};
  STATES.forEach((s, i) => {
    out[s] = Number(res[i]?.[1] ?? 0);
  });
  // Nothing consumes the dead-letter queue: its jobs stay in its wait list until redriven or discarded.
  out.deadLetters = Number(res[STATES.length]?.[1] ?? 0);
  return out;
}

export async function readTruth(redis: Redis, prefix: string, ids: readonly string[]): Promise<Truth> {
  const base = `${prefix}:retire:`;
  const p = redis.pipeline();
  for (const id of ids) {
    p.zscore(`${base}completed`, id);
    p.hmget(base + id, 'returnvalue', 'atm', 'stc', 'data');
  }
  const res = (await p.exec()) ?? [];
  const jobs: JobTruth[] = ids.map((id, i) => {
    const score = res[i * 2]?.[1] as string | null;
    const [rv, atm, stc, data] = (res[i * 2 + 1]?.[1] as (string | null)[]) ?? [];
    let record: Partial<RetireRecord> = {};
    try {
      record = rv ? (JSON.parse(rv) as RetireRecord) : {};
    } catch {
      record = {};
    }
    let user: string | undefined = record.user;
    if (!user && data) {
      try {
        user = (JSON.parse(data) as { user?: string }).user;
      } catch {
        user = undefined;
      }
    }
    return {
      id,
      exists: data !== null && data !== undefined,
      completed: score !== null && score !== undefined,
      outcome: record.outcome,
      user,
      graphCalls: record.attempts,
      attemptsMade: Number(atm ?? 0),
      stalled: Number(stc ?? 0),
    };
  });
  const notRetired = jobs.filter((j) => !(j.completed && j.outcome === 'retired'));
  const counts = await queueCounts(redis, prefix);
  return {
    jobs,
    retired: jobs.length - notRetired.length,
    notRetired,
    stalledJobs: jobs.filter((j) => j.stalled > 0).length,
    counts,
    deadLetters: counts.deadLetters ?? 0,
  };
}

/** Dead letters with their reasons, for failure messages and assertions. */
export async function readDeadLetters(redis: Redis, prefix: string): Promise<DeadLetterData[]> {
  const base = `${prefix}:dead-letter:`;
  const ids = await redis.lrange(`${base}wait`, 0, -1);
  if (ids.length === 0) return [];
  const p = redis.pipeline();
  for (const id of ids) p.hget(base + id, 'data');
  const res = (await p.exec()) ?? [];
  return res.flatMap(([, raw]) => {
    try {
      return raw ? [JSON.parse(raw as string) as DeadLetterData] : [];
    } catch {
      return [];
    }
  });
}

export function describeTruth(t: Truth): string {
  const sample = t.notRetired
    .slice(0, 5)
    .map((j) => `${j.id}(${j.user ?? '?'}: ${j.completed ? j.outcome : 'open'})`);
  return `retired ${t.retired}/${t.jobs.length}, counts ${JSON.stringify(t.counts)}, not retired e.g. ${sample.join(', ')}`;
}
