// Autopilot deregistration of one device: its identities found by serial number (the Intune id is not
// how Autopilot knows a device), then each deleted. Runs only after the device's `delete` (the
// policy's lint holds that order): Intune wants the record gone before the registration.
import { GraphNotFoundError } from '../graph/errors.js';
import { autopilotBySerialRequest, autopilotDeleteRequest } from '../graph/requests.js';
import type { DeviceActionResult, DevicePlan } from '../interfaces.js';
import { type ActionRun, type CallDeps, read, write } from './calls.js';

interface AutopilotIdentity {
  id?: string;
  serialNumber?: string | null;
}

/** Finds the Autopilot identities of the device's serial number and deletes each (after `delete`). */
export async function deregister(
  deps: CallDeps,
  run: ActionRun,
  device: DevicePlan,
): Promise<DeviceActionResult> {
  const base = { deviceId: device.deviceId, action: 'autopilot-deregister' as const };
  const serial = device.serialNumber?.trim();
  if (!serial) {
    return {
      ...base,
      state: 'failed',
      message: 'the device has no serial number: its Autopilot identity cannot be found',
      at: new Date().toISOString(),
    };
  }
  const found = await read<AutopilotIdentity>(deps, run, autopilotBySerialRequest(serial), {
    ...base,
    step: 'autopilot-find',
  });
  // `contains` also matches longer serials: only the exact one (case-insensitive) is this device's.
  const ids = found.value
    .filter((i) => typeof i?.id === 'string' && i.serialNumber?.toLowerCase() === serial.toLowerCase())
    .map((i) => i.id as string);
  if (ids.length === 0) {
    return {
      ...base,
      state: 'gone',
      status: found.status,
      ...(found.requestId ? { requestId: found.requestId } : {}),
      message: `no Autopilot identity with serial number ${serial}`,
      at: new Date().toISOString(),
    };
  }
  let last: { status: number; requestId?: string; at: string } | undefined;
  for (const id of ids) {
    try {
      last = await write(deps, run, autopilotDeleteRequest(id), { ...base, step: 'autopilot-delete' });
    } catch (err) {
      if (!(err instanceof GraphNotFoundError)) throw err;
    }
  }
  return {
    ...base,
    state: 'done',
    ...(last ? { status: last.status } : { status: 404 }),
    ...(last?.requestId ? { requestId: last.requestId } : {}),
    message: `${ids.length} Autopilot identit${ids.length === 1 ? 'y' : 'ies'} removed`,
    at: last?.at ?? new Date().toISOString(),
  };
}
