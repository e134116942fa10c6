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

export type EvidenceColumn = (typeof EVIDENCE_COLUMNS)[number];

/** Every cell is a string or null (absent): the same value in JSON and (as an empty cell) in CSV. */
export type EvidenceRow = Record<EvidenceColumn, string | null>;

const text = (v: string | null | undefined): string | null => (v === undefined || v === '' ? null : v);

/** The rows of one leaver's evidence, in inventory order. */
export function evidenceRows(record: EvidenceRecord): EvidenceRow[] {
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
  if (record.devices.length === 0) return [order({ ...leaver, ...none })];
  const checks = new Map((v?.devices ?? []).map((c) => [c.deviceId, c]));
  return record.devices.map((d) => {
    const check = checks.get(d.id);
    return order({
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
    });
  });
}

/** JSON keeps insertion order: build each row in column order so JSON and CSV read alike. */
function order(values: EvidenceRow): EvidenceRow {
  const out = {} as EvidenceRow;
  for (const c of EVIDENCE_COLUMNS) out[c] = values[c] ?? null;
  return out;
}
