// Realistic simulated Intune devices: 0–3 per user derived from a hash of the user (`nodevices-…`
// users have none), or one device from any seed for explicit counts. Deterministic, so tests and the
// demo see the same devices every run (bar the sync time, which follows the calendar day). Each device
// is a Graph v1.0 `managedDevice` as Intune lists it, with v1.0 property names only (the contract
// test checks every key and enum value against src/graph/contract): never shaped after what the
// product happens to $select, so a wrong $select cannot be confirmed by a fake built from it.
import { createHash } from 'node:crypto';
import { stableGuid } from '../tokens.js';

/** A simulated `microsoft.graph.managedDevice`: v1.0 property name → JSON value. */
export type SimDevice = { id: string } & Record<string, string | number | boolean | null>;

const OS = ['Windows', 'iOS', 'Android', 'macOS'] as const;
const HARDWARE: Record<(typeof OS)[number], [string, string, string][]> = {
  // [manufacturer, model, osVersion]
  Windows: [
    ['Dell Inc.', 'Latitude 7440', '10.0.22631.3447'],
    ['LENOVO', 'ThinkPad X1 Carbon Gen 11', '10.0.22631.3593'],
    ['Microsoft Corporation', 'Surface Laptop 5', '10.0.19045.4291'],
  ],
  iOS: [
    ['Apple', 'iPhone 15', '17.4.1'],
    ['Apple', 'iPhone 13', '17.3.1'],
    ['Apple', 'iPad Air (5th generation)', '17.4'],
  ],
  Android: [
    ['samsung', 'SM-S911B', '14'],
    ['Google', 'Pixel 8', '14'],
    ['motorola', 'moto g84 5G', '13'],
  ],
  macOS: [
    ['Apple', 'MacBook Pro (14-inch, M3, 2023)', '14.4.1'],
    ['Apple', 'MacBook Air (M2, 2022)', '14.3'],
    ['Apple', 'MacBook Pro (16-inch, 2021)', '13.6.6'],
  ],
};
const DAY = 86_400_000;

/** 0–3 devices for a user, always the same ones (bar the sync time, which follows the calendar day). */
export function defaultDevices(user: string, now = Date.now()): SimDevice[] {
  const local = user.includes('@') ? user.slice(0, user.lastIndexOf('@')) : user;
  if (local.startsWith('nodevices-')) return [];
  const count = (createHash('sha256').update(`devices:${user}`).digest()[0] as number) % 4;
  return Array.from({ length: count }, (_, i) => makeDevice(user, String(i), now));
}

/** One realistic device of a user, derived from the user and a seed. */
export function makeDevice(user: string, seed: string, now = Date.now()): SimDevice {
  const local = user.includes('@') ? user.slice(0, user.lastIndexOf('@')) : user;
  const who = (local.split(/[.\-_]/)[0] || 'user').replace(/^\w/, (c) => c.toUpperCase());
  const d = createHash('sha256').update(`device:${user}:${seed}`).digest();
  const b = (n: number) => d[n] as number;
  const os = OS[b(0) % OS.length] as (typeof OS)[number];
  const [manufacturer, model, osVersion] = HARDWARE[os][b(1) % 3] as [string, string, string];
  const serial = d.subarray(2, 8).toString('hex').toUpperCase();
  const deviceName =
    os === 'Windows'
      ? `DESKTOP-${serial.slice(0, 7)}`
      : os === 'macOS'
        ? `${who}'s MacBook`
        : os === 'iOS'
          ? `${who}'s ${model.startsWith('iPad') ? 'iPad' : 'iPhone'}`
          : `${model}_${serial.slice(0, 4)}`;
  const mobile = os === 'iOS' || os === 'Android';
  const owner = mobile && b(8) % 2 === 1 ? 'personal' : 'company';
  const apple = os === 'iOS' || os === 'macOS';
  return {
    id: stableGuid(`device:${user}:${seed}`),
    userPrincipalName: user.includes('@') ? user : null,
    deviceName,
    managedDeviceName: `${user.split('@')[0]}_${os}_${serial.slice(0, 6)}`,
    operatingSystem: os,
    osVersion,
    model,
    manufacturer,
    serialNumber: serial,
    managementState: 'managed',
    managedDeviceOwnerType: owner,
    deviceEnrollmentType:
      os === 'Windows'
        ? 'windowsAzureADJoin'
        : owner === 'personal'
          ? apple
            ? 'appleUserEnrollment'
            : 'userEnrollment'
          : apple
            ? 'appleBulkWithUser'
            : 'deviceEnrollmentManager',
    isSupervised: apple && owner === 'company',
    managementAgent: 'mdm',
    deviceRegistrationState: 'registered',
    azureADRegistered: true,
    azureADDeviceId: stableGuid(`entra-device:${user}:${seed}`),
    isEncrypted: b(13) % 7 !== 0,
    complianceState: b(9) % 5 === 0 ? 'noncompliant' : 'compliant',
    lastSyncDateTime: iso(Math.floor(now / DAY) * DAY - (b(10) % 48) * 3_600_000),
    enrolledDateTime: iso(Date.UTC(2023, 0, 1) + ((b(11) * 256 + b(12)) % 17_520) * 3_600_000),
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
