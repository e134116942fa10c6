// The answer to one Graph call, decided the moment it arrives: auth, announced Retry-After windows,
// injected outage, throttling, then per-user behaviour. Order matters and mirrors the real service:
// the gateway rejects bad tokens before Intune counts anything.
import { parseRetryAfter } from '../../graph/retry-after.js';
import type { SimState } from '../state.js';
import { authenticate, bearerOf } from '../tenants/auth.js';
import type { SimTenant } from '../tenants/tenant.js';
import { RETIRE_ROLE } from '../tokens.js';
import type { Step } from './behaviour.js';
import { formatRetryAfter } from './windows.js';

export interface Decision extends Step {
  code?: string;
  message?: string;
  /**
   * A Retry-After window to announce. It opens when the answer is SENT (after the simulated
   * latency), not when it is decided: a client cannot honour a window it has not been told about,
   * and requests it sends meanwhile are "already on the wire".
   */
  announce?: { ms: number } | { until: number };
  /** The tenant the call was attributed to (its token's `tid`); absent when the token was refused. */
  tenant?: SimTenant;
}

export function decide(
  state: SimState,
  user: string,
  authorization: string | undefined,
  now: number,
): Decision {
  const bearer = bearerOf(authorization);
  if (!bearer) return { status: 401, code: 'InvalidAuthenticationToken', message: 'Access token is empty.' };
  const auth = authenticate(state, bearer, now);
  if (!auth.ok) return { status: 401, code: 'InvalidAuthenticationToken', message: auth.message };
  const { claims, tenant } = auth;
  return { ...decideForTenant(state, tenant, user, claims, now), tenant };
}

function decideForTenant(
  state: SimState,
  tenant: SimTenant,
  user: string,
  claims: Record<string, unknown>,
  now: number,
): Decision {
  const noRole =
    claims.idtyp === 'app' && !(Array.isArray(claims.roles) && claims.roles.includes(RETIRE_ROLE));
  if (noRole || state.deniedPermissions.has(RETIRE_ROLE) || tenant.consent === 'revoked') {
    return {
      status: 403,
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    };
  }

  const limit = tenant.limit;
  const format = limit?.retryAfter === 'none' ? 'seconds' : (limit?.retryAfter ?? 'seconds');
  const verdict = tenant.windows.classify(now, state.violationGraceMs);
  if (verdict.kind === 'violation') {
    state.stats.windowViolation();
    tenant.stats.windowViolation();
    return { status: 429, retryAfter: formatRetryAfter(verdict.remainingMs, format, now).header };
  }
  if (verdict.kind === 'in-flight') {
    state.stats.inFlightAtAnnouncement();
    tenant.stats.inFlightAtAnnouncement();
  }

  if (state.outage) {
    const { status, retryAfter } = state.outage;
    return { status, retryAfter, announce: status === 429 ? announcement(retryAfter, now) : undefined };
  }
  if (state.hangAll) return { status: 204, hang: true };
  const switched = tenant.takeThrottle();
  if (switched !== undefined)
    return { status: 429, retryAfter: switched, announce: announcement(switched, now) };

  const appId = String(claims.appid ?? '');
  const across = state.tenants.waitAcrossTenants(appId, now);
  const wait = across > 0 ? across : tenant.limiter.admit(appId, now, limit, tenant.tenantLimit);
  if (wait > 0) {
    const format = limit?.retryAfter ?? 'seconds';
    const { header, until } = formatRetryAfter(wait, format, now);
    if (until === undefined) return { status: 429, retryAfter: header };
    // An HTTP-date names an instant; a delta in seconds starts counting when the client receives it.
    return {
      status: 429,
      retryAfter: header,
      announce: format === 'http-date' ? { until } : { ms: until - now },
    };
  }
  state.tenants.recordAcrossTenants(appId, now);

  const step = state.behaviour.next(user);
  if (step.status === 429) return { ...step, announce: announcement(step.retryAfter, now) };
  return step;
}

function announcement(retryAfter: string | undefined, now: number): Decision['announce'] {
  const ms = parseRetryAfter(retryAfter ?? null, now);
  if (ms === undefined || ms <= 0) return undefined;
  return retryAfter && !/^\s*[\d.]+\s*$/.test(retryAfter) ? { until: now + ms } : { ms };
}
