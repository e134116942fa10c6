// Named users whose devices exercise a device policy (issue 21), by the local part's prefix, the way
// `nodevices-` / `nocheckin-` users work: every v1.0 property a real record has, ids derived from the
// user so a test can compute them (`fixtureDeviceId(user, 'laptop')`).
//
// - `leaver-mixed…`      a personal iPhone (User Enrollment), a company Windows laptop (Entra joined,
//                        with an Autopilot identity by its serial number) and a company Android phone
//                        (corporate-owned work profile): retire / wipe+delete+deregister / wipe.
// - `leaver-supervised…` a supervised company iPhone with an Activation Lock bypass code.
// - `leaver-byod…`       a personal Android phone (work profile): wipe is refused, retire only.
import { createHash } from 'node:crypto';
import { stableGuid } from '../tokens.js';
import { iso, makeDevice, type SimDevice } from './device-fixtures.js';

export const FIXTURE_KINDS = ['iphone', 'laptop', 'android', 'supervised', 'byod'] as const;
export type FixtureKind = (typeof FIXTURE_KINDS)[number];

const PREFIXES: [string, FixtureKind[]][] = [
  ['leaver-mixed', ['iphone', 'laptop', 'android']],
  ['leaver-supervised', ['supervised']],
  ['leaver-byod', ['byod']],
];

export function fixtureDeviceId(user: string, kind: FixtureKind): string {
  return stableGuid(`device:${user.toLowerCase()}:fixture-${kind}`);
}

/** The fixture devices of a named user, or undefined when the user is not one. */
export function fixtureDevices(user: string, now = Date.now()): SimDevice[] | undefined {
  const key = user.toLowerCase();
  const local = key.includes('@') ? key.slice(0, key.lastIndexOf('@')) : key;
  const kinds = PREFIXES.find(([p]) => local.startsWith(p))?.[1];
  return kinds?.map((kind) => fixtureDevice(key, kind, now));
}

const SHAPES: Record<FixtureKind, Record<string, string | boolean>> = {
  iphone: {
    operatingSystem: 'iOS',
    osVersion: '17.4.1',
    manufacturer: 'Apple',
    model: 'iPhone 15',
    managedDeviceOwnerType: 'personal',
    deviceEnrollmentType: 'appleUserEnrollment',
    isSupervised: false,
  },
  laptop: {
    operatingSystem: 'Windows',
    osVersion: '10.0.22631.3447',
    manufacturer: 'Dell Inc.',
    model: 'Latitude 7440',
    managedDeviceOwnerType: 'company',
    deviceEnrollmentType: 'windowsAzureADJoin',
    isSupervised: false,
  },
  // v1.0's deviceEnrollmentType has no Android Enterprise members (they come after the evolvable
  // enum's sentinel): v1.0 answers them as `unknownFutureValue`.
  android: {
    operatingSystem: 'Android',
    osVersion: '14',
    manufacturer: 'samsung',
    model: 'SM-S911B',
    managedDeviceOwnerType: 'company',
    deviceEnrollmentType: 'unknownFutureValue',
    isSupervised: false,
  },
  supervised: {
    operatingSystem: 'iOS',
    osVersion: '17.4.1',
    manufacturer: 'Apple',
    model: 'iPhone 15 Pro',
    managedDeviceOwnerType: 'company',
    deviceEnrollmentType: 'appleBulkWithUser',
    isSupervised: true,
  },
  byod: {
    operatingSystem: 'Android',
    osVersion: '14',
    manufacturer: 'Google',
    model: 'Pixel 8',
    managedDeviceOwnerType: 'personal',
    deviceEnrollmentType: 'userEnrollment',
    isSupervised: false,
  },
};

function fixtureDevice(user: string, kind: FixtureKind, now: number): SimDevice {
  const base = makeDevice(user, `fixture-${kind}`, now);
  const shape = SHAPES[kind];
  const local = user.includes('@') ? user.slice(0, user.lastIndexOf('@')) : user;
  const who = (local.split(/[.\-_]/)[0] || 'user').replace(/^\w/, (c) => c.toUpperCase());
  const serial = String(base.serialNumber);
  const deviceName =
    kind === 'laptop'
      ? `DESKTOP-${serial.slice(0, 7)}`
      : kind === 'iphone' || kind === 'supervised'
        ? `${who}'s iPhone`
        : `${shape.model}_${serial.slice(0, 4)}`;
  const device: SimDevice = {
    ...base,
    ...shape,
    id: fixtureDeviceId(user, kind),
    deviceName,
    managedDeviceName: `${user.split('@')[0]}_${shape.operatingSystem}_${serial.slice(0, 6)}`,
    managementState: 'managed',
    complianceState: 'compliant',
    isEncrypted: true,
    lastSyncDateTime: iso(now - 3_600_000),
  };
  if (kind === 'supervised') device.activationLockBypassCode = bypassCode(device.id);
  return device;
}

/**
 * An Activation Lock bypass code in Apple's shape (groups of five, no vowels), derived from the device:
 * what Intune escrows for a supervised device.
 */
export function bypassCode(deviceId: string): string {
  const alphabet = '0123456789BCDFGHJKLMNPQRSTVWXYZ';
  const d = createHash('sha256').update(`bypass:${deviceId}`).digest();
  let code = '';
  for (let i = 0; i < 25; i++) code += alphabet[(d[i] as number) % alphabet.length];
  return code.match(/.{5}/g)?.join('-') ?? code;
}
