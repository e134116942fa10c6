// A leaver's Intune managed devices: GET …/users/{user}/managedDevices with the fields the evidence
// keeps, every page (permission DeviceManagementManagedDevices.Read.All).
import type { ManagedDevice } from '../interfaces.js';
import { type GraphGetAllOptions, type GraphList, graphGetAll } from './read.js';
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
] as const satisfies readonly (keyof ManagedDevice)[];

/**
 * `users/{user}/managedDevices?$select=…`, relative to GRAPH_BASE_URL (the key form `users('…')` for a
 * UPN starting with `$`): built by requests.ts, where the contract test sees it.
 */
export function managedDevicesPath(user: string): string {
  return managedDevicesRequest(user, DEVICE_FIELDS).path;
}

export interface ListDevicesOptions extends Omit<GraphGetAllOptions, 'url' | 'beforePage'> {
  /** Object id (GUID) or userPrincipalName, already normalised. */
  user: string;
  /** A fixed token, or a hook run before each page (take a read slot, then return the token). */
  token?: string;
  beforePage?: GraphGetAllOptions['beforePage'];
}

/** Every managed device of the user, only the DEVICE_FIELDS of each, with the request-id of each page. */
export async function listManagedDevices(opts: ListDevicesOptions): Promise<GraphList<ManagedDevice>> {
  const { user, token, beforePage, ...rest } = opts;
  const before = beforePage ?? (async () => token ?? '');
  if (!beforePage && !token) throw new TypeError('listManagedDevices needs a token or a beforePage hook');
  const list = await graphGetAll<Record<string, unknown>>({
    ...rest,
    url: managedDevicesPath(user),
    beforePage: before,
  });
  return { ...list, value: list.value.filter(isDevice).map(pick) };
}

function isDevice(v: unknown): v is Record<string, unknown> & { id: string } {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';
}

/** Keeps only the selected fields (a server may add others) as strings or null. */
function pick(raw: Record<string, unknown>): ManagedDevice {
  const device: Record<string, string | null> = {};
  for (const field of DEVICE_FIELDS) {
    const v = raw[field];
    if (typeof v === 'string') device[field] = v;
    else if (v === null || v === undefined) {
      if (field !== 'id' && v === null) device[field] = null;
    } else device[field] = String(v);
  }
  return device as unknown as ManagedDevice;
}
