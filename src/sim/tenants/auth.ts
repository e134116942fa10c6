// Graph's side of multi-tenancy: a call belongs to the tenant named by its token's `tid`. A token of a
// tenant the simulator does not know, or one the tenant stopped accepting (tenant.ts `generation`),
// is refused with 401 as Graph refuses a token it cannot validate.
import type { SimState } from '../state.js';
import type { SimTenant } from './tenant.js';

export type TenantAuth =
  | { ok: true; tenant: SimTenant; claims: Record<string, unknown> }
  | { ok: false; message: string };

export function authenticate(state: SimState, bearer: string, now = Date.now()): TenantAuth {
  const check = state.tokens.verify(bearer, now);
  if (!check.ok) return check;
  const tenant = state.tenants.get(typeof check.claims.tid === 'string' ? check.claims.tid : undefined);
  if (!tenant) return { ok: false, message: 'Access token tenant does not match this tenant.' };
  if ((check.claims.tgen ?? 0) !== tenant.generation)
    return { ok: false, message: 'Access token has been revoked.' };
  return { ok: true, tenant, claims: check.claims };
}

/** `Bearer <token>` → the token, else undefined. */
export function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
}
