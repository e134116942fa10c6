// One job's evidence as people read it (GET /v1/offboardings/{id}, `offboard status <id>`, the
// console's lookup): each device before the action with what became of it after, side by side,
// rather than two lists to match up by id.
import type { DeviceCheck, EvidenceRecord, ManagedDevice, Outcome, Verification } from '../interfaces.js';

export interface DeviceEvidence extends ManagedDevice {
  /**
   * Deprecated: managedDeviceOwnerType under the name this view had before issue 18, kept so API
   * clients reading it do not break (the public contract is extended, never renamed).
   */
  ownerType?: string | null;
  /** The latest verification check of this device; null until the first one. */
  after: Omit<DeviceCheck, 'deviceId'> | null;
}

export interface EvidenceView {
  inventoriedAt: string;
  inventoryRequestIds: string[];
  outcome: Outcome;
  /** The retire POST; null when none was sent (no devices, dry run). */
  action: { at: string; requestId: string | null; status: number } | null;
  devices: DeviceEvidence[];
  verification: Omit<Verification, 'devices'>;
}

export function evidenceView(record: EvidenceRecord): EvidenceView {
  const checks = new Map((record.verification?.devices ?? []).map((c) => [c.deviceId, c]));
  const { devices: _devices, ...verification } = record.verification ?? {
    state: 'not_applicable',
    checks: 0,
    devices: [],
  };
  return {
    inventoriedAt: record.inventoriedAt,
    inventoryRequestIds: record.inventoryRequestIds ?? [],
    outcome: record.outcome,
    action: record.action
      ? { at: record.action.at, requestId: record.action.requestId ?? null, status: record.action.status }
      : null,
    devices: record.devices.map((d) => {
      const check = checks.get(d.id);
      const device = { ...d, ownerType: d.managedDeviceOwnerType ?? null };
      if (!check) return { ...device, after: null };
      const { deviceId: _id, ...after } = check;
      return { ...device, after };
    }),
    verification,
  };
}
