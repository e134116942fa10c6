// One job's evidence as people read it (GET /v1/offboardings/{id}, `offboard status <id>`, the
// console's lookup): each device before the action with what became of it after, side by side,
// rather than two lists to match up by id. Under a device policy each device also lists its actions
// in the plan's order, each with its result and its own verification.
import type {
  DeviceActionCheck,
  DeviceActionResult,
  DeviceCheck,
  EvidenceRecord,
  ManagedDevice,
  Outcome,
  Verification,
} from '../interfaces.js';

/** One device × action of a device policy: what was sent, what Graph answered, what the reads proved. */
export interface DeviceActionEvidence {
  action: DeviceActionResult['action'];
  state: DeviceActionResult['state'];
  status: number | null;
  requestId: string | null;
  at: string | null;
  /** Graph's error code or the reason it was not sent (failed, skipped). */
  graphCode?: string;
  message?: string;
  /** The latest verification check of this action; null until the first one. */
  verification: Omit<DeviceActionCheck, 'deviceId' | 'action'> | null;
}

export interface DeviceEvidence extends ManagedDevice {
  /**
   * Deprecated: managedDeviceOwnerType under the name this view had before issue 18, kept so API
   * clients reading it do not break (the public contract is extended, never renamed).
   */
  ownerType?: string | null;
  /** The latest verification check of this device; null until the first one. */
  after: Omit<DeviceCheck, 'deviceId'> | null;
  /** Device policy only: the profile and 1-based rule that chose this device's actions. */
  policy?: { profile: string; rule: number };
  /** Device policy only: the device's actions in order (empty: the policy left it alone). */
  actions?: DeviceActionEvidence[];
}

export interface EvidenceView {
  inventoriedAt: string;
  inventoryRequestIds: string[];
  outcome: Outcome;
  /** The retire POST; null when none was sent (no devices, dry run). */
  action: { at: string; requestId: string | null; status: number } | null;
  devices: DeviceEvidence[];
  verification: Omit<Verification, 'devices' | 'actions'>;
  /** Device policy only: the profile the job ran under. */
  devicePolicy?: string;
}

export function evidenceView(record: EvidenceRecord): EvidenceView {
  const checks = new Map((record.verification?.devices ?? []).map((c) => [c.deviceId, c]));
  const {
    devices: _devices,
    actions: _actions,
    ...verification
  } = record.verification ?? {
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
      const policy = policyOf(record, d.id);
      if (!check) return { ...device, after: null, ...policy };
      const { deviceId: _id, ...after } = check;
      return { ...device, after, ...policy };
    }),
    verification,
    ...(record.devicePlan?.[0] ? { devicePolicy: record.devicePlan[0].profile } : {}),
  };
}

/** A device's plan and actions under a device policy; nothing for a record without one. */
function policyOf(record: EvidenceRecord, deviceId: string): Pick<DeviceEvidence, 'policy' | 'actions'> {
  if (!record.deviceActions && !record.devicePlan) return {};
  const plan = record.devicePlan?.find((p) => p.deviceId === deviceId);
  const results = (record.deviceActions ?? []).filter((r) => r.deviceId === deviceId);
  const checks = new Map(
    (record.verification?.actions ?? []).filter((c) => c.deviceId === deviceId).map((c) => [c.action, c]),
  );
  // The plan's order; a result the plan does not name (an older plan) after the planned ones.
  const order = plan?.actions.map((a) => a.action) ?? [];
  for (const r of results) if (!order.includes(r.action)) order.push(r.action);
  const actions = order.map((action): DeviceActionEvidence => {
    const r = results.find((x) => x.action === action);
    const check = checks.get(action);
    const verification = check ? (({ deviceId: _d, action: _a, ...rest }) => rest)(check) : null;
    return {
      action,
      state: r?.state ?? 'planned',
      status: r?.status ?? null,
      requestId: r?.requestId ?? null,
      at: r?.at ?? null,
      ...(r?.graphCode ? { graphCode: r.graphCode } : {}),
      ...(r?.message ? { message: r.message } : {}),
      verification,
    };
  });
  return { ...(plan ? { policy: { profile: plan.profile, rule: plan.rule } } : {}), actions };
}
