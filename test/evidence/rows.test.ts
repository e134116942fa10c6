// Flattening an EvidenceRecord into export rows: one per inventoried device, one for a leaver
// without devices, device checks matched by id, "verified at" only for a verified leaver.
import { describe, expect, it } from 'vitest';
import { EVIDENCE_COLUMNS, evidenceRows } from '../../src/evidence/rows.js';
import type { EvidenceRecord } from '../../src/interfaces.js';

function record(over: Partial<EvidenceRecord> = {}): EvidenceRecord {
  return {
    jobId: 'job-1',
    user: 'ann@contoso.com',
    batchId: 'b-7',
    requestedBy: 'hr-system',
    correlationId: 'c-1',
    source: 'api',
    inventoriedAt: '2026-12-01T10:00:00.000Z',
    inventoryRequestIds: ['r-inv'],
    devices: [
      {
        id: 'd-1',
        deviceName: 'ANN-LAPTOP',
        operatingSystem: 'Windows',
        osVersion: '10.0.22631',
        serialNumber: 'SN1',
        managedDeviceOwnerType: 'company',
        managementState: 'managed',
      },
      { id: 'd-2', deviceName: "Ann's iPhone", operatingSystem: 'iOS', managementState: 'managed' },
    ],
    action: { at: '2026-12-01T10:00:01.000Z', requestId: 'r-post', status: 204 },
    outcome: 'retired',
    verification: {
      state: 'verified',
      checks: 2,
      endedAt: '2026-12-01T10:20:00.000Z',
      devices: [
        // Deliberately out of inventory order: rows follow the inventory, checks are matched by id.
        { deviceId: 'd-2', result: 'retired', stateAfter: null, checkedAt: '2026-12-01T10:20:00.000Z' },
        { deviceId: 'd-1', result: 'retired', stateAfter: null, checkedAt: '2026-12-01T10:15:00.000Z' },
      ],
    },
    ...over,
  };
}

describe('evidenceRows', () => {
  it('gives one row per device with before, action and after, keys in column order', () => {
    const rows = evidenceRows(record());
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0] ?? {})).toEqual([...EVIDENCE_COLUMNS]);
    expect(rows[0]).toEqual({
      user: 'ann@contoso.com',
      jobId: 'job-1',
      batchId: 'b-7',
      deviceId: 'd-1',
      deviceName: 'ANN-LAPTOP',
      operatingSystem: 'Windows',
      osVersion: '10.0.22631',
      serialNumber: 'SN1',
      ownerType: 'company',
      stateBefore: 'managed',
      inventoriedAt: '2026-12-01T10:00:00.000Z',
      actionAt: '2026-12-01T10:00:01.000Z',
      actionRequestId: 'r-post',
      outcome: 'retired',
      stateAfter: null,
      deviceResult: 'retired',
      checkedAt: '2026-12-01T10:15:00.000Z',
      verificationState: 'verified',
      verifiedAt: '2026-12-01T10:20:00.000Z',
    });
    expect(rows[1]?.deviceId).toBe('d-2');
    expect(rows[1]?.checkedAt).toBe('2026-12-01T10:20:00.000Z');
    expect(rows[1]?.serialNumber).toBeNull();
  });

  it('gives a leaver without devices exactly one row with empty device columns', () => {
    const rows = evidenceRows(
      record({
        devices: [],
        action: undefined,
        outcome: 'no_devices',
        verification: { state: 'not_applicable', checks: 0, devices: [] },
      }),
    );
    expect(rows).toHaveLength(1);
    const r = rows[0];
    expect(r?.outcome).toBe('no_devices');
    expect(r?.user).toBe('ann@contoso.com');
    expect(r?.verificationState).toBe('not_applicable');
    for (const c of [
      'deviceId',
      'deviceName',
      'stateBefore',
      'stateAfter',
      'deviceResult',
      'actionAt',
    ] as const) {
      expect(r?.[c], c).toBeNull();
    }
  });

  it('has no verified-at for an unverified leaver, and keeps each device result', () => {
    const rows = evidenceRows(
      record({
        verification: {
          state: 'unverified',
          checks: 5,
          endedAt: '2026-12-04T10:00:00.000Z',
          devices: [
            { deviceId: 'd-1', result: 'retired', stateAfter: null, checkedAt: '2026-12-01T10:15:00.000Z' },
            {
              deviceId: 'd-2',
              result: 'not_retired',
              stateAfter: 'retirePending',
              checkedAt: '2026-12-04T10:00:00.000Z',
            },
          ],
        },
      }),
    );
    expect(rows.map((r) => r.verifiedAt)).toEqual([null, null]);
    expect(rows.map((r) => r.verificationState)).toEqual(['unverified', 'unverified']);
    expect(rows.map((r) => [r.deviceResult, r.stateAfter])).toEqual([
      ['retired', null],
      ['not_retired', 'retirePending'],
    ]);
  });

  it('leaves the after columns empty while a device has no check yet, and no batch when none', () => {
    const rows = evidenceRows(
      record({ batchId: undefined, verification: { state: 'pending', checks: 0, devices: [] } }),
    );
    expect(rows.map((r) => [r.batchId, r.deviceResult, r.checkedAt, r.verifiedAt])).toEqual([
      [null, null, null, null],
      [null, null, null, null],
    ]);
  });
});
