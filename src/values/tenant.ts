// The tenant a request names (TENANTS_FILE, issue 22). A leaf check like the other values: the
// caller passes the configured tenant names and the key's scope, so this file reads no config.
// Errors never list the configured tenants: a scoped key must not learn other customers' names.
import { CataloguedError } from '../errors/catalogued-error.js';
import { InvalidRequestError } from './invalid-request.js';

/** Tenant slugs: a-z 0-9 -, 1-63, starting with a letter or digit (the tenants file's rule). */
export const TENANT_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
const TENANT_NAME = new RegExp(TENANT_NAME_PATTERN);

export function isTenantName(value: unknown): value is string {
  return typeof value === 'string' && TENANT_NAME.test(value);
}

/** A key (or a CLI scope) naming a tenant it may not act for: 403, whether the tenant exists or not. */
export class TenantForbiddenError extends CataloguedError {
  override readonly name = 'TenantForbiddenError';
  readonly errorId = 'OFB_ERR_TENANT_FORBIDDEN';
  readonly field = 'tenant';
  constructor(given: string) {
    super(`this key may not act for tenant "${given}"`);
  }
}

/** Which tenants a caller may act for: every one, or a list. */
export type TenantScope = readonly string[] | 'all';

/**
 * The tenant a request belongs to. Without a tenants file (`configured` empty) there is none and
 * naming one is a 400. With one: the given name, checked (syntax 400, scope 403, unknown 400);
 * a missing name is the only tenant the caller could mean, or a 400 when there are several.
 */
export function resolveTenant(
  configured: readonly string[],
  given: unknown,
  scope: TenantScope = 'all',
): string | undefined {
  if (configured.length === 0) {
    if (given === undefined || given === null) return undefined;
    throw new InvalidRequestError(
      'tenant: this deployment serves a single tenant (no TENANTS_FILE); leave tenant out',
      'tenant',
    );
  }
  if (given === undefined || given === null || given === '') {
    const candidates = scope === 'all' ? configured : configured.filter((t) => scope.includes(t));
    if (candidates.length === 1) return candidates[0];
    throw new InvalidRequestError(
      'tenant is required: this deployment serves several tenants (name one with "tenant")',
      'tenant',
    );
  }
  if (!isTenantName(given)) {
    throw new InvalidRequestError(
      'tenant must be 1-63 of a-z 0-9 - (starting with a letter or digit)',
      'tenant',
    );
  }
  // Scope first: a scoped key gets the same 403 for another customer's tenant and for no tenant,
  // so it cannot probe which names exist.
  if (scope !== 'all' && !scope.includes(given)) throw new TenantForbiddenError(given);
  if (!configured.includes(given)) throw new InvalidRequestError(`unknown tenant "${given}"`, 'tenant');
  return given;
}
