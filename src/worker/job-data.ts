// A job's payload is re-checked when a worker picks it up: anything could have written to Redis
// (an old version, a hand-made job). A job that fails here is dead-lettered as `invalid_job`.

import { type RetireJobData, type RetireProgress, SOURCES, type Source } from '../interfaces.js';
import { isCallbackPath } from '../values/callback-path.js';
import { normaliseUser } from '../values/user.js';

export class InvalidJobError extends Error {
  override readonly name = 'InvalidJobError';
}

const KNOWN_SOURCES: ReadonlySet<string> = new Set(SOURCES);

function text(obj: Record<string, unknown>, field: string, required: boolean, max = 500): void {
  const v = obj[field];
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new InvalidJobError(
      `job field "${field}" must be ${required ? 'a' : 'absent or a'} non-empty string`,
    );
  }
}

/** Returns the data when it is a usable retire request, else throws InvalidJobError. */
export function parseJobData(data: unknown): RetireJobData {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InvalidJobError('job data is not an object');
  }
  const obj = data as Record<string, unknown>;
  let user: string;
  try {
    user = normaliseUser(obj.user);
  } catch (err) {
    throw new InvalidJobError(`job user is invalid: ${(err as Error).message}`);
  }
  // Producers store the normalised form; anything else was not written by the intake library.
  if (user !== obj.user) throw new InvalidJobError('job user is not normalised');
  if (typeof obj.dryRun !== 'boolean') throw new InvalidJobError('job field "dryRun" must be a boolean');
  text(obj, 'correlationId', true, 200);
  text(obj, 'requestedBy', true, 200);
  text(obj, 'requestedAt', true, 40);
  text(obj, 'reason', false);
  text(obj, 'effectiveAt', false, 40);
  text(obj, 'batchId', false, 200);
  text(obj, 'redrivenFrom', false, 200);
  // The worker later POSTs to this path with the app's Graph token: only the exact resume shape.
  if (obj.callbackUriPath !== undefined && !isCallbackPath(obj.callbackUriPath))
    throw new InvalidJobError('job field "callbackUriPath" is not a Lifecycle Workflows resume path');
  const more = obj.callbackUriPaths;
  if (more !== undefined && (!Array.isArray(more) || more.length > 10 || !more.every(isCallbackPath)))
    throw new InvalidJobError(
      'job field "callbackUriPaths" is not a list of Lifecycle Workflows resume paths',
    );
  if (!KNOWN_SOURCES.has(obj.source as Source))
    throw new InvalidJobError('job field "source" is not a known source');
  return obj as unknown as RetireJobData;
}

/** The per-job counters kept in BullMQ's progress field; tolerant of missing or foreign values. */
export function readProgress(raw: unknown): RetireProgress {
  const p = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<RetireProgress>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  const out: RetireProgress = {
    graphCalls: num(p.graphCalls),
    throttledWaits: num(p.throttledWaits),
    lastStatus: typeof p.lastStatus === 'number' ? p.lastStatus : null,
  };
  if (typeof p.lastRequestId === 'string') out.lastRequestId = p.lastRequestId;
  if (typeof p.firstAttemptAt === 'string') out.firstAttemptAt = p.firstAttemptAt;
  if (p.rejectedDeferred === true) out.rejectedDeferred = true;
  return out;
}
