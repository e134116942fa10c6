// The Graph application permissions a device policy (DEVICE_POLICY_FILE) needs beyond the retire:
// the actions its rules use, each with the permission Microsoft's API reference names for it
// (managedDevice retire / wipe: PrivilegedOperations.All; delete managedDevice: ReadWrite.All;
// list and delete windowsAutopilotDeviceIdentity: DeviceManagementServiceConfig.ReadWrite.All).
// A policy always reads the inventory first, so it needs the device read as well.
import type { DevicePolicy } from '../device-policy/types.js';
import type { DeviceActionName } from '../interfaces.js';
import { PERMISSION } from './permissions.js';

/** Permission per action; `none` needs nothing. */
export const ACTION_PERMISSION: Record<Exclude<DeviceActionName, 'none'>, string> = {
  retire: PERMISSION.retire,
  wipe: PERMISSION.retire,
  delete: PERMISSION.deleteDevices,
  'autopilot-deregister': PERMISSION.autopilot,
};

/** Every action any rule of any profile uses (a request may name any profile its key allows). */
export function policyActions(policy: DevicePolicy): Set<DeviceActionName> {
  const out = new Set<DeviceActionName>();
  for (const profile of Object.values(policy.profiles)) {
    for (const rule of profile.rules) for (const action of rule.actions) out.add(action);
  }
  return out;
}

/** The permissions the policy's actions need, in a stable order (reads first, then by action). */
export function devicePolicyPermissions(actions: Iterable<DeviceActionName>): string[] {
  const out = new Set<string>([PERMISSION.readDevices]);
  for (const action of actions) if (action !== 'none') out.add(ACTION_PERMISSION[action]);
  return [...out];
}
