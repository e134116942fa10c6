// What the per-device endpoints read from the DeviceBook: one managed device by id, with the state its
// actions gave it, and the Autopilot identities by serial number. Functions over the book (not
// methods) so devices.ts stays about the users' device lists.

import type { SimAutopilotIdentity } from './autopilot.js';
import { bypassCode } from './device-actions-fixtures.js';
import type { DeviceBook, SimDevice } from './devices.js';

/**
 * One device by id (`GET deviceManagement/managedDevices/{id}`): every property, the managementState
 * its actions gave it and its `deviceActionResults`; undefined when unknown or deleted. A supervised
 * Apple device carries the bypass code Intune escrowed (derived when a control did not set one).
 */
export function readDevice(
  book: DeviceBook,
  deviceId: string,
  now = Date.now(),
): { user: string; device: Record<string, unknown> } | undefined {
  const found = findDevice(book, deviceId, now);
  if (!found) return undefined;
  const { user, device } = found;
  const { behaviour: _own, ...d } = device as SimDevice & { behaviour?: unknown };
  const s = book.actions.stateOf(
    d.id,
    book.behaviourOf(user, device),
    book.retireDelayMs,
    now,
    book.retiredAt(user),
  );
  const apple = ['ios', 'ipados', 'macos'].includes(String(d.operatingSystem ?? '').toLowerCase());
  const code = d.activationLockBypassCode ?? (apple && d.isSupervised === true ? bypassCode(d.id) : null);
  return {
    user,
    device: {
      ...d,
      ...(s.managementState ? { managementState: s.managementState } : {}),
      activationLockBypassCode: code,
      deviceActionResults: s.results,
    },
  };
}

/** A device a list or control has shown, not deleted, with its user. */
export function findDevice(
  book: DeviceBook,
  deviceId: string,
  now = Date.now(),
): { user: string; device: SimDevice } | undefined {
  const user = book.ownerOf(deviceId);
  if (user === undefined || book.actions.isDeleted(deviceId)) return undefined;
  const key = deviceId.toLowerCase();
  const device = book.base(user, now).find((d) => d.id.toLowerCase() === key);
  return device ? { user, device } : undefined;
}

/**
 * Autopilot identities whose serial number contains `serial` (case-insensitive; every one when
 * undefined): explicit ones and those of the company Windows devices a list or control has shown.
 */
export function autopilotIdentities(
  book: DeviceBook,
  serial?: string,
  now = Date.now(),
): SimAutopilotIdentity[] {
  const needle = serial?.toLowerCase();
  const known: { device: SimDevice; exists: boolean }[] = [];
  for (const deviceId of book.windowsDevicesBySerial(needle)) {
    const user = book.ownerOf(deviceId);
    const device =
      user === undefined ? undefined : book.base(user, now).find((d) => d.id.toLowerCase() === deviceId);
    if (device) known.push({ device, exists: !book.actions.isDeleted(deviceId) });
  }
  const all = book.autopilot.all(known);
  return needle === undefined ? all : all.filter((i) => i.serialNumber.toLowerCase().includes(needle));
}

/** DELETE of an Autopilot identity: false when none has that id. */
export function deleteAutopilotIdentity(book: DeviceBook, id: string, now = Date.now()): boolean {
  const key = id.toLowerCase();
  const serial = book.serialOfAutopilotId(key);
  const candidates = serial === undefined ? book.autopilot.all([]) : autopilotIdentities(book, serial, now);
  const found = candidates.find((i) => i.id.toLowerCase() === key);
  return found ? book.autopilot.delete(found.id) : false;
}
