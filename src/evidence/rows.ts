// The evidence export's row: one per inventoried device, so an auditor's spreadsheet answers "which
// devices did this person have and what became of each" line by line. A leaver without devices is
// still one row (device columns empty), otherwise they would vanish from the export and look unproven.
import type { EvidenceRecord } from '../interfaces.js';

/** Column order of the CSV and key order of the JSON rows: part of the export's contract. */
export const EVIDENCE_COLUMNS = [
  'user',
  'jobId',
  'batchId',
  'deviceId',
  'deviceName',
  'operatingSystem',
  'osVersion',
  'serialNumber',
  'ownerType',
  'stateBefore',
  'inventoriedAt',
  'actionAt',
  'actionRequestId',
  'outcome',
  'stateAfter',
  'deviceResult',
  'checkedAt',
  'verificationState',
  'verifiedAt',
] as const;

/**
 * With a device policy (DEVICE_POLICY_FILE): one row per device × action, these columns after the
 * others (a spreadsheet reading columns by position keeps working). The row's `actionAt` and
 * `actionRequestId` are then that action's, `stateAfter`/`checkedAt` its latest check's, and
 * `deviceResult` the device's summary over its actions.
 */
export const DEVICE_ACTION_COLUMNS = ['action', 'actionState', 'actionStatus', 'actionVerification'] as const;

/** The export's columns when device actions are shown. */
export const EVIDENCE_ACTION_COLUMNS = [...EVIDENCE_COLUMNS, ...DEVICE_ACTION_COLUMNS] as const;

export type EvidenceColumn = (typeof EVIDENCE_ACTION_COLUMNS)[number];

/** Every cell is a string or null (absent): the same value in JSON and (as an empty cell) in CSV. */
export type EvidenceRow = Record<EvidenceColumn, string | null>;

/** The single action of a leaver without a policy, named in the `action` column. */
export const LEAVER_ACTION = 'removeAllDevicesFromManagement';

export interface EvidenceRowOptions {
  /** One row per device × action with DEVICE_ACTION_COLUMNS; default: one row per device, as before. */
  actions?: boolean;
}

const text = (v: string | null | undefined): string | null => (v === undefined || v === '' ? null : v);

/** The rows of one leaver's evidence, in inventory order. */
export function evidenceRows(record: EvidenceRecord, opts: EvidenceRowOptions = {}): EvidenceRow[] {
  const columns = opts.actions ? EVIDENCE_ACTION_COLUMNS : EVIDENCE_COLUMNS;
  const rows = deviceRows(record);
  if (!opts.actions) return rows.map((r) => order(r, columns));
  if (record.deviceActions && record.deviceActions.length > 0) {
    return actionRows(record, rows).map((r) => order(r, columns));
  }
  // A leaver without a policy in an export with policy columns: its one action, on every row.
  const a = record.action;
  return rows.map((r) =>
    order(
      {
        ...r,
        action: a ? LEAVER_ACTION : null,
        actionState: a ? 'done' : null,
        actionStatus: a ? String(a.status) : null,
        actionVerification: null,
      },
      columns,
    ),
  );
}

/** One row per device, in inventory order (without a policy: the export as it always was). */
function deviceRows(record: EvidenceRecord): Partial<EvidenceRow>[] {
  const v = record.verification;
  const leaver = {
    user: record.user,
    jobId: record.jobId,
    batchId: text(record.batchId),
    inventoriedAt: text(record.inventoriedAt),
    actionAt: text(record.action?.at),
    actionRequestId: text(record.action?.requestId),
    outcome: record.outcome,
    verificationState: v?.state ?? null,
    // Only a verified leaver has a "verified at"; an unverified one ended without proof.
    verifiedAt: v?.state === 'verified' ? text(v.endedAt) : null,
  };
  const none = {
    deviceId: null,
    deviceName: null,
    operatingSystem: null,
    osVersion: null,
    serialNumber: null,
    ownerType: null,
    stateBefore: null,
    stateAfter: null,
    deviceResult: null,
    checkedAt: null,
  };
  if (record.devices.length === 0) return [{ ...leaver, ...none }];
  const checks = new Map((v?.devices ?? []).map((c) => [c.deviceId, c]));
  return record.devices.map((d) => {
    const check = checks.get(d.id);
    return {
      ...leaver,
      deviceId: d.id,
      deviceName: text(d.deviceName),
      operatingSystem: text(d.operatingSystem),
      osVersion: text(d.osVersion),
      serialNumber: text(d.serialNumber),
      // The column keeps its name (exports and auditors' spreadsheets read it); Graph v1.0 calls the
      // property managedDeviceOwnerType, which is what the inventory now reads (issue 18).
      ownerType: text(d.managedDeviceOwnerType),
      stateBefore: text(d.managementState),
      stateAfter: check ? check.stateAfter : null,
      deviceResult: check?.result ?? null,
      checkedAt: text(check?.checkedAt),
    };
  });
}

/**
 * A device policy's rows: each device row once per action, in the plan's order, carrying that
 * action's result and check. A device the policy left alone (`none`) keeps one row, action `none`.
 */
function actionRows(record: EvidenceRecord, devices: Partial<EvidenceRow>[]): Partial<EvidenceRow>[] {
  const results = record.deviceActions ?? [];
  const checks = new Map((record.verification?.actions ?? []).map((c) => [`${c.deviceId}:${c.action}`, c]));
  const out: Partial<EvidenceRow>[] = [];
  for (const row of devices) {
    // In the plan's order (the store keeps results in a hash: no order of its own).
    const steps = (record.devicePlan ?? []).find((p) => p.deviceId === row.deviceId)?.actions ?? [];
    const rank = (action: string) => {
      const i = steps.findIndex((s) => s.action === action);
      return i < 0 ? steps.length : i;
    };
    const own = results
      .filter((r) => r.deviceId === row.deviceId)
      .sort((a, b) => rank(a.action) - rank(b.action));
    if (own.length === 0) {
      out.push({
        ...row,
        actionAt: null,
        actionRequestId: null,
        action: row.deviceId ? 'none' : null,
        actionState: null,
        actionStatus: null,
        actionVerification: null,
      });
      continue;
    }
    for (const r of own) {
      const check = checks.get(`${r.deviceId}:${r.action}`);
      out.push({
        ...row,
        actionAt: text(r.at),
        actionRequestId: text(r.requestId),
        stateAfter: check ? check.stateAfter : null,
        checkedAt: text(check?.checkedAt),
        action: r.action,
        actionState: r.state,
        actionStatus: r.status === undefined ? null : String(r.status),
        actionVerification: check?.result ?? null,
      });
    }
  }
  return out;
}

/** JSON keeps insertion order: build each row in column order so JSON and CSV read alike. */
function order(values: Partial<EvidenceRow>, columns: readonly EvidenceColumn[]): EvidenceRow {
  const out = {} as EvidenceRow;
  for (const c of columns) out[c] = values[c] ?? null;
  return out;
}
