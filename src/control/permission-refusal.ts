// A 403 to an app token that does not carry the permission the call needs is the app's consent
// (removed by the tenant's admin, or never granted), not one user's scope tags: every later call of
// that tenant would be refused the same way. The circuit opens at the first such 403, and the job goes
// back intact, instead of waiting for CIRCUIT_FORBIDDEN_THRESHOLD users to be refused and
// dead-lettered `forbidden` one by one. A token that does carry the permission (or cannot be read)
// concludes nothing: the distinct-users rule still judges.
import { PRIVILEGED_OPERATIONS_PERMISSION } from '../entra/authority.js';

export interface PermissionRefusal {
  code: 'permission_missing';
  reason: string;
}

/**
 * The circuit's cause when the refused token lacked `permission` (default the retire's); with
 * `permission: null`, only a token without any permission at all concludes (an action whose
 * permission has higher-privileged equivalents).
 */
export function permissionRefusal(
  err: { tokenRoles?: readonly string[] },
  permission: string | null = PRIVILEGED_OPERATIONS_PERMISSION,
): PermissionRefusal | undefined {
  const roles = err.tokenRoles;
  if (roles === undefined) return undefined;
  if (
    permission === null ? roles.length > 0 : roles.some((r) => r.toLowerCase() === permission.toLowerCase())
  )
    return undefined;
  const lacking = permission ?? 'any Microsoft Graph application permission';
  return {
    code: 'permission_missing',
    reason: `Graph answered 403 and the app's token carries no ${lacking} (it has: ${roles.join(', ') || 'none'}): admin consent was removed or never granted. Grant admin consent for the app, then resume`,
  };
}
