// The go-live checks' shapes, shared by the CLI (`offboard preflight`), GET /v1/preflight and the console.

/** `skip`: not needed by this configuration (e.g. no Entra sweep), so it cannot fail the run. */
export const CHECK_STATUSES = ['pass', 'fail', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** Every check, in the order they are printed. */
export const CHECK_IDS = [
  'token',
  'permissions',
  'read.entra-sweep',
  'read.inventory',
  'redis.reachable',
  'redis.eviction',
  'redis.persistence',
  'queues.paused',
  'circuit',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export interface PreflightCheck {
  id: CheckId;
  status: CheckStatus;
  /** One line: what was checked and what was found. */
  detail: string;
  /** What to do about a failure (absent when it passed). */
  fix?: string;
}

export interface PreflightReport {
  /** True when no needed check failed: exit code 0. */
  ok: boolean;
  /** When the run started (ISO 8601). */
  at: string;
  mode: 'app' | 'delegated';
  tenantId: string | null;
  graphBaseUrl: string;
  /** The permissions this configuration needs (what the `permissions` check compared). */
  required: string[];
  checks: PreflightCheck[];
}
