// Activation Lock bypass codes: written encrypted by the worker right before a supervised Apple
// device's wipe, read back only by an operator through an audited command (`offboard evidence secrets`,
// GET /v1/offboardings/{id}/secrets). Every read writes a `secret-read` audit entry naming the actor and
// the devices, never the codes. Kept EVIDENCE_RETENTION, like the evidence they belong to.
import type { Config } from '../config/load.js';
import type { QueueContext } from '../queue/context.js';
import { ownKey } from '../queue/names.js';
import { type AuditContext, appendAudit } from '../records/audit.js';
import type { RedisClient } from '../redis/connection.js';
import { decryptSecret, encryptSecret, SecretUnreadableError } from './secret-crypto.js';
import { loadPlan } from './store.js';

export const secretKey = (prefix: string, jobId: string, deviceId: string) =>
  ownKey(prefix, 'secret', jobId, deviceId);

/** Reading secrets needs EVIDENCE_KEY on the reading side too. */
export class EvidenceKeyMissingError extends Error {
  override readonly name = 'EvidenceKeyMissingError';
  constructor() {
    super('EVIDENCE_KEY is not set: the stored secrets cannot be decrypted without it');
  }
}

export async function storeBypassCode(
  redis: RedisClient,
  prefix: string,
  where: { jobId: string; deviceId: string },
  code: string,
  key: Buffer,
  retentionMs: number,
): Promise<void> {
  const k = secretKey(prefix, where.jobId, where.deviceId);
  const value = JSON.stringify({
    kind: 'activationLockBypassCode',
    at: new Date().toISOString(),
    envelope: encryptSecret(code, key, k),
  });
  await redis.set(k, value, 'PX', retentionMs);
}

export async function hasBypassCode(
  redis: RedisClient,
  prefix: string,
  where: { jobId: string; deviceId: string },
): Promise<boolean> {
  return (await redis.exists(secretKey(prefix, where.jobId, where.deviceId))) === 1;
}

export interface SecretView {
  deviceId: string;
  kind: string;
  storedAt: string;
  /** The decrypted value; absent when it could not be decrypted (see `error`). */
  value?: string;
  error?: string;
}

/**
 * Every secret kept for a job, decrypted, and one `secret-read` audit entry (written before the values
 * are returned: no read without its trace). Devices come from the job's plan (`deviceIds`); a redriven
 * job's codes stay under the job that read them.
 */
export async function readSecrets(
  ctx: AuditContext & { config: Pick<Config, 'evidence'> },
  input: { jobId: string; deviceIds: readonly string[]; actor: string; user?: string; via: 'cli' | 'api' },
): Promise<SecretView[]> {
  const key = ctx.config.evidence.key;
  if (!key) throw new EvidenceKeyMissingError();
  const keysOf = input.deviceIds.map((d) => secretKey(ctx.prefix, input.jobId, d));
  const raws = keysOf.length > 0 ? await ctx.redis.mget(...keysOf) : [];
  const out: SecretView[] = [];
  raws.forEach((raw, i) => {
    if (!raw) return;
    const deviceId = input.deviceIds[i] as string;
    let stored: { kind?: string; at?: string; envelope?: string };
    try {
      stored = JSON.parse(raw);
    } catch {
      out.push({ deviceId, kind: 'unknown', storedAt: '', error: 'damaged entry' });
      return;
    }
    const view: SecretView = { deviceId, kind: stored.kind ?? 'unknown', storedAt: stored.at ?? '' };
    try {
      view.value = decryptSecret(stored.envelope ?? '', key, keysOf[i] as string);
    } catch (err) {
      if (!(err instanceof SecretUnreadableError)) throw err;
      view.error = err.message;
    }
    out.push(view);
  });
  await appendAudit(ctx, {
    type: 'secret-read',
    actor: input.actor,
    at: new Date().toISOString(),
    jobId: input.jobId,
    ...(input.user ? { user: input.user } : {}),
    details: {
      via: input.via,
      devices: out.map((s) => s.deviceId),
      kinds: [...new Set(out.map((s) => s.kind))],
      unreadable: out.filter((s) => s.error).length,
    },
  });
  return out;
}

/** The job has no device plan: it never ran under a device policy (or its records expired). */
export class NoDevicePlanError extends Error {
  override readonly name = 'NoDevicePlanError';
  constructor(readonly jobId: string) {
    super(`job ${jobId} has no device plan: it did not run under a device policy, or its records expired`);
  }
}

/** The audited read of one job's secrets, for the CLI and the API alike (devices from the job's plan). */
export async function readJobSecrets(
  ctx: QueueContext,
  input: { jobId: string; actor: string; via: 'cli' | 'api' },
): Promise<{ jobId: string; user?: string; secrets: SecretView[] }> {
  const plan = await loadPlan(ctx.redis, ctx.prefix, input.jobId);
  if (!plan) throw new NoDevicePlanError(input.jobId);
  if (!ctx.config.evidence.key) throw new EvidenceKeyMissingError();
  // The job (kept RETAIN_COMPLETED / RETAIN_FAILED) names the user, so the read shows in their history.
  const user = (await ctx.retire.getJob(input.jobId).catch(() => undefined))?.data?.user;
  const secrets = await readSecrets(ctx, {
    ...input,
    deviceIds: plan.map((d) => d.deviceId),
    ...(user ? { user } : {}),
  });
  return { jobId: input.jobId, ...(user ? { user } : {}), secrets };
}
