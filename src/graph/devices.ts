// A leaver's Intune managed devices: GET …/users/{user}/managedDevices with the fields the evidence
// keeps, every page (permission DeviceManagementManagedDevices.Read.All).
import type { ManagedDevice } from '../interfaces.js';
import { fixedToken, graphReadAll } from './call.js';
import type { GraphList } from './read.js';
import { managedDevicesRequest } from './requests.js';

/**
 * The `$select` of the inventory (issue 12): what an auditor needs per device, nothing more. Graph v1.0
 * names only (src/graph/contract): ownership is `managedDeviceOwnerType`; the beta name `ownerType`
 * makes real Graph refuse the whole read with 400 (issue 18).
 */
export const DEVICE_FIELDS = [
  'id',
  'deviceName',
  'operatingSystem',
  'osVersion',
  'model',
  'manufacturer',
  'serialNumber',
  'managementState',
  'managedDeviceOwnerType',
  'complianceState',
  'lastSyncDateTime',
  'enrolledDateTime',
  // what a device policy matches on (enrollmentType, supervised: src/device-policy)
  'deviceEnrollmentType',
  'isSupervised',
] as const satisfies readonly (keyof ManagedDevice)[];

/**
 * `users/{user}/managedDevices?$select=…`, relative to GRAPH_BASE_URL (the key form `users('…')` for a
 * UPN starting with `$`): built by requests.ts, where the contract test sees it.
 */
export function managedDevicesPath(user: string): string {
  return managedDevicesRequest(user, DEVICE_FIELDS).path;
}

/** The devices of a managedDevices list: only the DEVICE_FIELDS of each, entries without an id dropped. */
export function toDevices(raw: readonly unknown[]): ManagedDevice[] {
  return raw.filter(isDevice).map(pick);
}

export interface ListDevicesOptions {
  baseUrl: string;
  /** Object id (GUID) or userPrincipalName, already normalised. */
  user: string;
  /** Bearer access token. Never logged. */
  token: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Every managed device of the user, unpaced, with a fixed token: the simulator's own tests and tools.
 * The worker reads through graphReadAll on the read budget (evidence/inventory.ts).
 */
export async function listManagedDevices(opts: ListDevicesOptions): Promise<GraphList<ManagedDevice>> {
  const list = await graphReadAll(
    { baseUrl: opts.baseUrl, timeoutMs: opts.timeoutMs, tokenProvider: fixedToken(opts.token) },
    {
      path: managedDevicesPath(opts.user),
      subject: opts.user,
      refreshOn401: false,
      ...(opts.signal ? { call: opts.signal } : {}),
    },
  );
  return { ...list, value: toDevices(list.value) };
}

function isDevice(v: unknown): v is Record<string, unknown> & { id: string } {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';
}

/** Keeps only the selected fields (a server may add others) as strings (booleans as such) or null. */
function pick(raw: Record<string, unknown>): ManagedDevice {
  const device: Record<string, string | boolean | null> = {};
  for (const field of DEVICE_FIELDS) {
    const v = raw[field];
    if (typeof v === 'string' || (typeof v === 'boolean' && field === 'isSupervised')) device[field] = v;
    else if (v === null || v === undefined) {
      if (field !== 'id' && v === null) device[field] = null;
    } else device[field] = String(v);
  }
  return device as unknown as ManagedDevice;
}
