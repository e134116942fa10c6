// Per-job state of a device policy's actions, in Redis apart from the BullMQ job: one hash per job,
// field `<deviceId>:<action>` → JSON DeviceActionResult, written BEFORE each call (`sending`) and after
// it (done / gone / failed / skipped). A worker killed mid-call leaves `sending`, and the next run
// looks at the device before it sends again (execute.ts). The plan the job used is kept next to it, so
// a retry and a redrive act on the same plan even when the policy file or the inventory changed.
// Both expire with EVIDENCE_RETENTION (they are the evidence of what was done to each device).
import { DEVICE_ACTION_STATES, type DeviceActionResult, type DevicePlan } from '../interfaces.js';
import { ownKey } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';

export const deviceActionKeys = {
  /** Hash `<deviceId>:<action>` → JSON DeviceActionResult. */
  results: (prefix: string, jobId: string) => ownKey(prefix, 'devact', jobId),
  /** String: JSON DevicePlan[] the job acts on. */
  plan: (prefix: string, jobId: string) => ownKey(prefix, 'devplan', jobId),
};

export function resultField(deviceId: string, action: DeviceActionResult['action']): string {
  return `${deviceId}:${action}`;
}

const STATES: ReadonlySet<string> = new Set(DEVICE_ACTION_STATES);

function parseResult(raw: string): DeviceActionResult | undefined {
  try {
    const r = JSON.parse(raw) as DeviceActionResult;
    if (typeof r?.deviceId === 'string' && typeof r.action === 'string' && STATES.has(r.state)) return r;
  } catch {
    // a damaged entry reads as absent: the action is looked at again, never assumed done
  }
  return undefined;
}

/** Every recorded device × action of a job (unordered; the plan gives the order). */
export async function readDeviceActions(
  redis: RedisClient,
  prefix: string,
  jobId: string,
): Promise<DeviceActionResult[]> {
  const all = await redis.hgetall(deviceActionKeys.results(prefix, jobId));
  const out: DeviceActionResult[] = [];
  for (const raw of Object.values(all)) {
    const r = parseResult(raw);
    if (r) out.push(r);
  }
  return out;
}

/** The job's results by field, for the executor. */
export async function readResultMap(
  redis: RedisClient,
  prefix: string,
  jobId: string,
): Promise<Map<string, DeviceActionResult>> {
  const map = new Map<string, DeviceActionResult>();
  for (const r of await readDeviceActions(redis, prefix, jobId))
    map.set(resultField(r.deviceId, r.action), r);
  return map;
}

/** Writes one result (and refreshes the expiry) before the call it announces, or after its answer. */
export async function writeResult(
  redis: RedisClient,
  prefix: string,
  jobId: string,
  result: DeviceActionResult,
  retentionMs: number,
): Promise<void> {
  const key = deviceActionKeys.results(prefix, jobId);
  await redis
    .multi()
    .hset(key, resultField(result.deviceId, result.action), JSON.stringify(result))
    .pexpire(key, retentionMs)
    .exec();
}

export async function savePlan(
  redis: RedisClient,
  prefix: string,
  jobId: string,
  plan: DevicePlan[],
  retentionMs: number,
): Promise<void> {
  await redis.set(deviceActionKeys.plan(prefix, jobId), JSON.stringify(plan), 'PX', retentionMs);
}

export async function loadPlan(
  redis: RedisClient,
  prefix: string,
  jobId: string,
): Promise<DevicePlan[] | undefined> {
  const raw = await redis.get(deviceActionKeys.plan(prefix, jobId));
  return raw ? validPlan(safeParse(raw)) : undefined;
}

function safeParse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** A plan from free-form JSON (job progress, Redis): every entry needs a device id and an action list. */
export function validPlan(value: unknown): DevicePlan[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const ok = value.every(
    (p) =>
      typeof p === 'object' &&
      p !== null &&
      typeof (p as DevicePlan).deviceId === 'string' &&
      Array.isArray((p as DevicePlan).actions),
  );
  return ok ? (value as DevicePlan[]) : undefined;
}

/**
 * A redrive: the new job takes the original's plan and its done/gone results, so only what failed (or
 * never ran) is sent again. Results the new job already has win (a retry of the redriven job).
 */
export async function inheritFrom(
  redis: RedisClient,
  prefix: string,
  originalJobId: string,
  jobId: string,
  retentionMs: number,
): Promise<DevicePlan[] | undefined> {
  const plan = await loadPlan(redis, prefix, originalJobId);
  if (!plan) return undefined;
  const [mine, theirs] = await Promise.all([
    readResultMap(redis, prefix, jobId),
    readDeviceActions(redis, prefix, originalJobId),
  ]);
  const key = deviceActionKeys.results(prefix, jobId);
  const multi = redis.multi();
  for (const r of theirs) {
    const field = resultField(r.deviceId, r.action);
    if ((r.state === 'done' || r.state === 'gone') && !mine.has(field))
      multi.hset(key, field, JSON.stringify(r));
  }
  multi.pexpire(key, retentionMs);
  multi.set(deviceActionKeys.plan(prefix, jobId), JSON.stringify(plan), 'PX', retentionMs);
  await multi.exec();
  return plan;
}
