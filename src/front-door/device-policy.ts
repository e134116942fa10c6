// Which device policy profile a request gets (DEVICE_POLICY_FILE), decided once at the front door
// for every producer: the one it names, else the policy's default, stored resolved on the job so a
// later change of the default never alters queued jobs. Without a policy file a request naming one
// is refused (400): nothing would apply it. A producer API key may name only the default and the
// profiles its API_KEYS entry lists; operators, the CLI and schedules may name any.
// The scope type lives with the policy's types: intake/ carries it in IntakeMeta without importing back.
import type { DevicePolicy, DevicePolicyScope } from '../device-policy/types.js';
import { CataloguedError } from '../errors/catalogued-error.js';
import type { IntakeMeta } from '../intake/enqueue.js';
import { type ValidRequest, validateRequest } from '../intake/validate.js';
import type { QueueContext } from '../queue/context.js';
import { InvalidRequestError } from '../values/invalid-request.js';

export type { DevicePolicyScope };

/** A producer key named a profile it may not use: refused whole (403), nothing stored. */
export class DevicePolicyForbiddenError extends CataloguedError {
  override readonly name = 'DevicePolicyForbiddenError';
  readonly errorId = 'OFB_ERR_DEVICE_POLICY_FORBIDDEN';
  constructor(
    readonly profile: string,
    readonly allowed: string[],
  ) {
    super(`this API key may not name device policy profile "${profile}"; it may name: ${allowed.join(', ')}`);
  }
}

/** The profiles a scope may name (the default first). */
export function allowedProfiles(policy: DevicePolicy, scope?: DevicePolicyScope): string[] {
  const all = Object.keys(policy.profiles);
  if (scope?.role !== 'producer' || scope.devicePolicies?.includes('*')) return all;
  const listed = new Set([policy.default, ...(scope.devicePolicies ?? [])]);
  return all
    .filter((p) => listed.has(p))
    .sort((a, b) => Number(b === policy.default) - Number(a === policy.default));
}

/**
 * The resolved profile name, or undefined when there is no policy file (behaviour as before it).
 * Throws InvalidRequestError (400) or DevicePolicyForbiddenError (403).
 */
export function resolveDevicePolicy(
  policy: DevicePolicy | undefined,
  requested: string | undefined,
  scope?: DevicePolicyScope,
): string | undefined {
  if (!policy) {
    if (requested === undefined) return undefined;
    throw new InvalidRequestError(
      'devicePolicy cannot be used: no device policy configured (DEVICE_POLICY_FILE)',
      'devicePolicy',
    );
  }
  if (requested === undefined) return policy.default;
  if (!Object.hasOwn(policy.profiles, requested)) {
    throw new InvalidRequestError(
      `devicePolicy "${requested}" is not a profile of the device policy; known: ${Object.keys(policy.profiles).join(', ')}`,
      'devicePolicy',
    );
  }
  const allowed = allowedProfiles(policy, scope);
  if (!allowed.includes(requested)) throw new DevicePolicyForbiddenError(requested, allowed);
  return requested;
}

/** The request with its profile resolved (no policy file: unchanged, or 400 when it names one). */
export function withDevicePolicy(
  policy: DevicePolicy | undefined,
  r: ValidRequest,
  scope?: DevicePolicyScope,
): ValidRequest {
  const profile = resolveDevicePolicy(policy, r.devicePolicy, scope);
  if (profile === undefined) return r;
  return { ...r, devicePolicy: profile };
}

/**
 * The one validation of a request: its fields (validateRequest), then its device policy profile
 * resolved for the requester. Bulk input runs it per item.
 */
export function validateFor(
  ctx: Pick<QueueContext, 'config'>,
  meta: Pick<IntakeMeta, 'devicePolicyScope' | 'devicePolicy' | 'tenant'>,
): (raw: unknown) => ValidRequest {
  return (raw) => {
    const r = validateRequest(raw);
    const named = r.devicePolicy ?? meta.devicePolicy;
    // Nothing named: the tenant's own default (TENANTS_FILE `devicePolicy`, checked against the policy
    // at start) before the policy's. A default is the administrator's choice, so any key gets it.
    const tenantDefault = tenantProfile(ctx, r.tenant ?? meta.tenant);
    if (named === undefined && tenantDefault !== undefined && ctx.config.devicePolicy) {
      return { ...r, devicePolicy: tenantDefault };
    }
    return withDevicePolicy(
      ctx.config.devicePolicy,
      named === undefined ? r : { ...r, devicePolicy: named },
      meta.devicePolicyScope,
    );
  };
}

/** The default profile TENANTS_FILE gives `tenant`, if any. */
function tenantProfile(ctx: Pick<QueueContext, 'config'>, tenant: string | undefined): string | undefined {
  if (tenant === undefined) return undefined;
  return ctx.config.tenants?.find((t) => t.name === tenant)?.devicePolicy;
}

/**
 * A profile given once for a whole command (the CLI's `--device-policy`): checked before anything is
 * read or written, so a typo stops the command instead of making every row invalid.
 */
export function checkCommandProfile(ctx: Pick<QueueContext, 'config'>, profile: string | undefined): void {
  if (profile === undefined) return;
  resolveDevicePolicy(ctx.config.devicePolicy, checkName(profile));
}

function checkName(profile: string): string {
  return validateRequest({ user: 'x@example.com', devicePolicy: profile }).devicePolicy as string;
}
