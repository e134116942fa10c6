// Which Graph permissions the configuration needs, and whether a token's `roles` / `scp` cover them.
// Names and their higher-privileged equivalents are Microsoft's (the permission tables of the Graph
// API reference: list managedDevices, list users, employeeLeaveDateTime).
import { PRIVILEGED_OPERATIONS_PERMISSION } from '../entra/authority.js';

export const PERMISSION = {
  retire: PRIVILEGED_OPERATIONS_PERMISSION,
  readDevices: 'DeviceManagementManagedDevices.Read.All',
  readUsers: 'User.Read.All',
  readLifecycleInfo: 'User-LifeCycleInfo.Read.All',
  /** A device policy's `delete` (the Intune record). */
  deleteDevices: 'DeviceManagementManagedDevices.ReadWrite.All',
  /** A device policy's `autopilot-deregister` (find the identity by serial, then delete it). */
  autopilot: 'DeviceManagementServiceConfig.ReadWrite.All',
} as const;

/** A granted permission that also satisfies the key (Graph accepts the higher-privileged one). */
const SATISFIED_BY: Record<string, readonly string[]> = {
  [PERMISSION.readDevices]: ['DeviceManagementManagedDevices.ReadWrite.All'],
  [PERMISSION.readUsers]: ['User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  [PERMISSION.readLifecycleInfo]: ['User-LifeCycleInfo.ReadWrite.All'],
};

export interface NeedsInput {
  /** EVIDENCE=on: the inventory and verification read devices. */
  evidence: boolean;
  /** An Entra sweep schedule exists: the sweep reads users and their leave dates. */
  entraSweep: boolean;
  /**
   * With DEVICE_POLICY_FILE: the permissions its actions need (device-permissions.ts); absent without
   * a policy, which keeps today's list.
   */
  devicePolicy?: readonly string[];
}

/** The permissions this configuration needs, in the order they are explained. */
export function requiredPermissions(needs: NeedsInput): string[] {
  const out: string[] = [PERMISSION.retire];
  if (needs.evidence) out.push(PERMISSION.readDevices);
  if (needs.entraSweep) out.push(PERMISSION.readUsers, PERMISSION.readLifecycleInfo);
  for (const p of needs.devicePolicy ?? []) if (!out.includes(p)) out.push(p);
  return out;
}

/** The required permissions the granted ones do not cover (case-insensitive, like Entra's names). */
export function missingPermissions(required: readonly string[], granted: readonly string[]): string[] {
  const have = new Set(granted.map((g) => g.toLowerCase()));
  return required.filter(
    (r) => !have.has(r.toLowerCase()) && !(SATISFIED_BY[r] ?? []).some((alt) => have.has(alt.toLowerCase())),
  );
}
