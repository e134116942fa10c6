// Queue and key names: part of the public contract (outside tools and KEDA read them).

export const RETIRE_QUEUE = 'retire';
export const DEAD_LETTER_QUEUE = 'dead-letter';
/** Job schedulers for scheduled sweeps: one scheduler per schedule, one job per tick. */
export const SWEEP_QUEUE = 'sweep';
/** Delayed verification reads after a retire (src/evidence). */
export const VERIFY_QUEUE = 'verify';
/** Outcome events to WEBHOOK_URLS, and Lifecycle Workflows resume calls (src/notify). */
export const NOTIFY_QUEUE = 'notify';

/** Our own keys live under the BullMQ prefix so one hash tag covers all of them on Redis Cluster. */
export function ownKey(prefix: string, ...parts: string[]): string {
  return [prefix, 'offboard', ...parts].join(':');
}

/** A key of one tenant (TENANTS_FILE): `<prefix>:offboard:tenant:<name>:…` (src/tenants/registry.ts). */
export function tenantKey(prefix: string, tenant: string, ...parts: string[]): string {
  return ownKey(prefix, 'tenant', tenant, ...parts);
}

export const keys = {
  audit: (prefix: string) => ownKey(prefix, 'audit'),
  userHistory: (prefix: string, user: string) => ownKey(prefix, 'history', user),
  /** Sorted set object id → last seen (ms) of one UPN (records/user-jobs.ts), expiring with HISTORY_TTL. */
  upnAlias: (prefix: string, upn: string) => ownKey(prefix, 'upn-alias', upn),
  circuit: (prefix: string) => ownKey(prefix, 'circuit'),
  /** Incremented by every resume: workers compare it to forget token failures from before it. */
  resumeGeneration: (prefix: string) => ownKey(prefix, 'resume-generation'),
  pauseReason: (prefix: string) => ownKey(prefix, 'pause-reason'),
  pacer: (prefix: string) => ownKey(prefix, 'pacer'),
  throttleGate: (prefix: string) => ownKey(prefix, 'throttle-until'),
  forbidden: (prefix: string) => ownKey(prefix, 'forbidden'),
  /** Sorted set user → time of the user's latest answered call, shared by the failure and 403 judges. */
  healthWindow: (prefix: string) => ownKey(prefix, 'health', 'calls'),
  /** The read budget's pace, Retry-After gate and health window (GRAPH_READ_RATE_LIMIT), apart from writes. */
  readPacer: (prefix: string) => ownKey(prefix, 'pacer', 'read'),
  readThrottleGate: (prefix: string) => ownKey(prefix, 'throttle-until', 'read'),
  readHealthWindow: (prefix: string) => ownKey(prefix, 'health', 'read', 'calls'),
  /** Sorted set user → time of its last 403 on a device read: the `read_permission_missing` judge. */
  readForbidden: (prefix: string) => ownKey(prefix, 'forbidden', 'read'),
  /** Sorted set user → time of its last 400 for one request shape: the `request_rejected` judge. */
  rejected: (prefix: string, shape: string) => ownKey(prefix, 'rejected', shape),
  batches: (prefix: string) => ownKey(prefix, 'batches'),
  batch: (prefix: string, id: string) => ownKey(prefix, 'batch', id),
  /** List of a bulk submission's validated items (JSON), so a 100 000-row import never sits in memory. */
  batchItems: (prefix: string, id: string) => ownKey(prefix, 'batch', id, 'items'),
  /** Set of users already seen while staging a bulk submission (dedupe without an in-process Set). */
  batchUsers: (prefix: string, id: string) => ownKey(prefix, 'batch', id, 'users'),
  schedules: (prefix: string) => ownKey(prefix, 'schedules'),
  /** Sorted set (user → accepted at) of users one actor got accepted without approval (GUARD_WINDOW). */
  guardWindow: (prefix: string, actor: string) => ownKey(prefix, 'guard-window', 'actor', actor),
  /** The same across every actor. */
  guardWindowTotal: (prefix: string) => ownKey(prefix, 'guard-window', 'total'),
  /** Duplicate submissions already audited for a pending job within the coalescing period. */
  duplicateSeen: (prefix: string, jobId: string) => ownKey(prefix, 'duplicate-seen', jobId),
  /** String (JSON) per API key name and Idempotency-Key (hashed): claim, then the stored answer, 24 h. */
  idempotency: (prefix: string, actor: string, keyHash: string) =>
    ownKey(prefix, 'idempotency', actor, keyHash),
  tokenCache: (prefix: string, clientId: string) => ownKey(prefix, 'token-cache', clientId),
  metrics: (prefix: string) => ownKey(prefix, 'metrics'),
  workers: (prefix: string) => ownKey(prefix, 'workers'),
  /** Hash: worker id → JSON {thumbprint, notAfter} of the client certificate it signs in with. */
  credentialExpiry: (prefix: string) => ownKey(prefix, 'credential-expiry'),
  /** Hash: `<schedule>:<field>` → last success/failure time (ms), items of the last tick, run counts. */
  sweepStatus: (prefix: string) => ownKey(prefix, 'sweep-status'),
  /** String (JSON EvidenceRecord) of one retire job, kept for EVIDENCE_RETENTION. */
  evidence: (prefix: string, jobId: string) => ownKey(prefix, 'evidence', jobId),
  /** Sorted set job id → inventory time (ms): the evidence export's time range. */
  evidenceByTime: (prefix: string) => ownKey(prefix, 'evidence-index', 'time'),
  /** Sorted set job id → time the verification ended unverified: the operators' list. */
  evidenceUnverified: (prefix: string) => ownKey(prefix, 'evidence-index', 'unverified'),
  /** Sorted set job id → inventory time (ms) of leavers whose verification is still running. */
  evidencePending: (prefix: string) => ownKey(prefix, 'evidence-index', 'pending'),
  /** Sorted set job id → time the verification ended verified. */
  evidenceVerified: (prefix: string) => ownKey(prefix, 'evidence-index', 'verified'),
};

/** Dead-letter job ids are deterministic so moving a job twice never duplicates it. */
export function deadLetterId(originalJobId: string): string {
  return `dl-${originalJobId}`;
}
