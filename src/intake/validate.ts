// Validation shared by every producer; the API adds its JSON Schema on top, the CLI and CSV use this.
import { InvalidCallbackPathError, isCallbackPath } from '../values/callback-path.js';
import { checkDevicePolicyName } from '../values/device-policy-name.js';
import { InvalidRequestError } from '../values/invalid-request.js';
import { isTenantName } from '../values/tenant.js';
import { hasControlChars } from '../values/text.js';
import { InvalidUserError, normaliseUser } from '../values/user.js';

// Re-exported: the request validator's error, whatever folder defines it.
export { InvalidRequestError };

export interface ValidRequest {
  user: string;
  reason?: string;
  effectiveAt?: string;
  dryRun?: boolean;
  correlationId?: string;
  /** Lifecycle Workflows resume path (src/values/callback-path.ts): reported to when the outcome is final. */
  callbackUriPath?: string;
  /**
   * Device policy profile (DEVICE_POLICY_FILE): the shape is checked here; the front door
   * (src/front-door/device-policy.ts) checks it exists and the caller may name it, and sets it to
   * the resolved profile (the default when none is named) before anything is stored.
   */
  devicePolicy?: string;
  /** Tenant slug (TENANTS_FILE); resolved against the tenants file by the front door. */
  tenant?: string;
}

const ALLOWED = new Set([
  'user',
  'reason',
  'effectiveAt',
  'dryRun',
  'correlationId',
  'callbackUriPath',
  'devicePolicy',
  'tenant',
]);
// ISO 8601 with an explicit offset: a leave date without a zone is ambiguous and refused.
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const MAX_AHEAD_MS = 400 * 86_400_000;

export function validateRequest(input: unknown): ValidRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidRequestError('request must be an object', '');
  }
  const obj = input as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!ALLOWED.has(key)) throw new InvalidRequestError(`unknown field "${key.slice(0, 40)}"`, key);
  }
  let user: string;
  try {
    user = normaliseUser(obj.user);
  } catch (err) {
    if (err instanceof InvalidUserError) throw new InvalidRequestError(err.message, 'user');
    throw err;
  }
  const out: ValidRequest = { user };
  if (obj.reason !== undefined && obj.reason !== null) {
    // Newlines and tabs too: a reason is one line of text, and a newline could forge a row in
    // what the CLI prints (`offboard batches show`).
    if (typeof obj.reason !== 'string' || obj.reason.length > 500 || hasControlChars(obj.reason)) {
      throw new InvalidRequestError(
        'reason must be one line of at most 500 characters without control characters (no newlines or tabs)',
        'reason',
      );
    }
    if (obj.reason.trim()) out.reason = obj.reason.trim();
  }
  if (obj.effectiveAt !== undefined && obj.effectiveAt !== null) {
    out.effectiveAt = parseEffectiveAt(obj.effectiveAt);
  }
  if (obj.dryRun !== undefined) {
    if (typeof obj.dryRun !== 'boolean')
      throw new InvalidRequestError('dryRun must be true or false', 'dryRun');
    out.dryRun = obj.dryRun;
  }
  if (obj.correlationId !== undefined && obj.correlationId !== null) {
    if (typeof obj.correlationId !== 'string' || !/^[A-Za-z0-9._:@/-]{1,128}$/.test(obj.correlationId)) {
      throw new InvalidRequestError(
        'correlationId must be 1-128 characters of A-Z a-z 0-9 . _ : @ / -',
        'correlationId',
      );
    }
    out.correlationId = obj.correlationId;
  }
  if (obj.callbackUriPath !== undefined && obj.callbackUriPath !== null) {
    if (!isCallbackPath(obj.callbackUriPath))
      throw new InvalidRequestError(new InvalidCallbackPathError().message, 'callbackUriPath');
    out.callbackUriPath = obj.callbackUriPath;
  }
  if (obj.devicePolicy !== undefined && obj.devicePolicy !== null) {
    out.devicePolicy = checkDevicePolicyName(obj.devicePolicy);
  }
  if (obj.tenant !== undefined && obj.tenant !== null) {
    if (!isTenantName(obj.tenant)) {
      throw new InvalidRequestError(
        'tenant must be 1-63 of a-z 0-9 - (starting with a letter or digit)',
        'tenant',
      );
    }
    out.tenant = obj.tenant;
  }
  // A dry run retires nothing, so it must never resume a Lifecycle Workflows task (as `completed`,
  // the workflow would go on to disable the account as if the devices were gone).
  if (out.dryRun === true && out.callbackUriPath !== undefined) {
    throw new InvalidRequestError(
      'dryRun cannot be combined with callbackUriPath: a dry run retires nothing and must not resume a Lifecycle Workflows task',
      'callbackUriPath',
    );
  }
  return out;
}

/** Returns the instant as a canonical ISO string (UTC). */
export function parseEffectiveAt(value: unknown): string {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string' && ISO_WITH_OFFSET.test(value)) ms = Date.parse(value);
  else {
    throw new InvalidRequestError(
      'effectiveAt must be an ISO 8601 date-time with an offset, e.g. 2026-12-01T17:00:00+01:00',
      'effectiveAt',
    );
  }
  if (!Number.isFinite(ms)) throw new InvalidRequestError('effectiveAt is not a real date', 'effectiveAt');
  if (ms - Date.now() > MAX_AHEAD_MS) {
    throw new InvalidRequestError('effectiveAt is more than 400 days ahead', 'effectiveAt');
  }
  return new Date(ms).toISOString();
}
