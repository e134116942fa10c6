// One catalogue of the errors a surface shows, the way Fastify keeps its FST_ERR_* codes: each
// error class names its entry (`errorId`), and the API (HTTP status, `code`, `details`) and the CLI
// (exit code, `--json` code) read the entry instead of guessing from the class. The strings here
// are public: tests, scripts and API clients branch on them, so an entry is extended, never renamed.
// An error with no entry is an internal one: HTTP 500 `internal`, CLI exit 1 (see `uncatalogued`).

/** 1 the command failed, 2 usage or configuration error (the CLI contract; 0 is success). */
export type ExitCode = 1 | 2;

/** The fields of an error the catalogue reads for `details` (by name, never by class). */
type Fields = Record<string, unknown>;

export interface CatalogueEntry {
  /** What went wrong, in general (the error's own message says it for this case). */
  readonly title: string;
  /** How the API answers it; absent: the error never reaches the API as itself. */
  readonly http?: {
    readonly status: number;
    readonly code: string;
    readonly details?: (err: Fields) => unknown;
  };
  /** How the CLI ends on it: exit code and the `code` of a `--json` error line. */
  readonly cli: {
    readonly exit: ExitCode;
    readonly code: string;
    readonly details?: (err: Fields) => unknown;
  };
}

function pick(err: Fields, ...names: string[]): Fields {
  return Object.fromEntries(names.map((n) => [n, err[n]]));
}

const failed = { exit: 1, code: 'error' } as const;

export const ERRORS = {
  // Configuration and usage (CLI only).
  OFB_ERR_CONFIG: {
    title: 'invalid configuration',
    cli: { exit: 2, code: 'config', details: (e) => pick(e, 'issues') },
  },
  OFB_ERR_USAGE: { title: 'wrong arguments or options', cli: { exit: 2, code: 'usage' } },
  OFB_ERR_COMMAND_FAILED: { title: 'the command failed', cli: { exit: 1, code: 'failed' } },
  OFB_ERR_INVALID_SCHEDULE: { title: 'malformed schedule', cli: { exit: 2, code: 'error' } },
  OFB_ERR_SCHEDULE_NOT_FOUND: { title: 'no such schedule', cli: failed },
  OFB_ERR_SWEEP_SOURCE: { title: 'the sweep source could not be read', cli: failed },
  OFB_ERR_IMPORT_FORMAT: { title: 'the import file is unusable', cli: failed },

  // Intake, cancel, redrive.
  OFB_ERR_INVALID_REQUEST: {
    title: 'invalid request',
    http: { status: 400, code: 'invalid_request', details: (e) => pick(e, 'field') },
    cli: failed,
  },
  OFB_ERR_JOB_NOT_FOUND: { title: 'no such job', http: { status: 404, code: 'not_found' }, cli: failed },
  OFB_ERR_JOB_NOT_CANCELLABLE: {
    title: 'the job can no longer be cancelled or moved',
    http: { status: 409, code: 'not_cancellable', details: (e) => pick(e, 'state') },
    cli: failed,
  },
  OFB_ERR_DEAD_LETTER_NOT_FOUND: {
    title: 'no such dead letter',
    http: { status: 404, code: 'not_found' },
    cli: failed,
  },
  OFB_ERR_REDRIVE_NOT_SETTLED: {
    title: 'the redrive did not settle; the dead letter is kept',
    http: { status: 409, code: 'redrive_not_settled', details: () => ({ kept: true }) },
    cli: failed,
  },

  // The mass-change guard.
  OFB_ERR_BATCH_NOT_FOUND: { title: 'no such batch', http: { status: 404, code: 'not_found' }, cli: failed },
  OFB_ERR_BATCH_STATE: {
    title: 'the batch is not waiting for a decision',
    http: { status: 409, code: 'batch_state', details: (e) => pick(e, 'state') },
    cli: failed,
  },
  OFB_ERR_BATCH_CHANGED: {
    title: 'the batch changed since it was reviewed',
    http: { status: 409, code: 'batch_changed', details: (e) => pick(e, 'expected', 'version', 'count') },
    cli: failed,
  },
  OFB_ERR_BATCH_VERSION_REQUIRED: {
    title: 'a decision must name the batch version it reviewed',
    http: { status: 428, code: 'precondition_required', details: (e) => pick(e, 'version', 'count') },
    cli: { exit: 2, code: 'error' },
  },
  OFB_ERR_HELD_LIMIT: {
    title: 'too many held batches or items',
    http: {
      status: 429,
      code: 'held_limit',
      details: (e) => ({ ...pick(e, 'scope', 'limit', 'current', 'requested'), stored: false }),
    },
    cli: failed,
  },
  // A tenant-scoped API key (or CLI --tenant scope) naming a tenant outside its scope (issue 22).
  OFB_ERR_TENANT_FORBIDDEN: {
    title: 'this key may not act for that tenant',
    http: { status: 403, code: 'tenant_forbidden', details: (e) => pick(e, 'field') },
    cli: { exit: 2, code: 'error' },
  },
  OFB_ERR_TWO_PERSON_RULE: {
    title: 'another operator must approve',
    http: { status: 403, code: 'two_person_rule' },
    cli: failed,
  },

  // Device policy (DEVICE_POLICY_FILE): a producer key named a profile its API_KEYS entry does not list.
  OFB_ERR_DEVICE_POLICY_FORBIDDEN: {
    title: 'this API key may not name that device policy profile',
    http: { status: 403, code: 'device_policy_forbidden', details: (e) => pick(e, 'profile', 'allowed') },
    cli: failed,
  },

  // Not raised as classes: the API answers them from these entries.
  OFB_ERR_REDIS_UNAVAILABLE: {
    title: 'the queue store (Redis) is unreachable; nothing was stored, retry later',
    http: { status: 503, code: 'redis_unavailable' },
    cli: failed,
  },
  OFB_ERR_INTERNAL: { title: 'internal error', http: { status: 500, code: 'internal' }, cli: failed },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorId = keyof typeof ERRORS;

/** The entry of any error that names none (a bug, or a library's error): internal, exit 1. */
export const uncatalogued: CatalogueEntry = ERRORS.OFB_ERR_INTERNAL;
