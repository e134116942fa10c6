// A device policy's evidence rows (src/evidence/rows.ts with `actions`): one row per device × action in
// the plan's order, the action columns after every existing one, a device left alone as action `none`;
// without the option (no policy configured) the rows and CSV are exactly those of before.
import { describe, expect, it } from 'vitest';
import { csvStream } from '../../src/evidence/csv.js';
import { exportColumns, exportShowsActions } from '../../src/evidence/export.js';
import {
  DEVICE_ACTION_COLUMNS,
  EVIDENCE_ACTION_COLUMNS,
  EVIDENCE_COLUMNS,
  evidenceRows,
  LEAVER_ACTION,
} from '../../src/evidence/rows.js';
import type { EvidenceRecord } from '../../src/interfaces.js';

const AT = '2026-12-01T10:00:00.000Z';

function policyRecord(): EvidenceRecord {
  return {
    jobId: 'job-9',
    user: 'mixed@contoso.test',
    requestedBy: 'hr',
    correlationId: 'c-9',
    source: 'api',
    inventoriedAt: AT,
    inventoryRequestIds: ['r-inv'],
    devices: [
      { id: 'iphone', deviceName: 'iPhone', operatingSystem: 'iOS', managedDeviceOwnerType: 'personal' },
      {
        id: 'laptop',
        deviceName: 'LAPTOP',
        operatingSystem: 'Windows',
        managedDeviceOwnerType: 'company',
        serialNumber: 'SN1',
        managementState: 'managed',
      },
      { id: 'kiosk', deviceName: 'KIOSK', operatingSystem: 'Android', managedDeviceOwnerType: 'company' },
    ],
    outcome: 'completed',
    devicePlan: [
      { deviceId: 'iphone', profile: 'dispose', rule: 2, actions: [{ action: 'retire' }] },
      {
        deviceId: 'laptop',
        profile: 'dispose',
        rule: 1,
        actions: [{ action: 'wipe' }, { action: 'delete' }, { action: 'autopilot-deregister' }],
      },
      { deviceId: 'kiosk', profile: 'dispose', rule: 3, actions: [] },
    ],
    // Out of plan order on purpose: the store's hash has no order.
    deviceActions: [
      {
        deviceId: 'laptop',
        action: 'autopilot-deregister',
        state: 'done',
        status: 204,
        at: '2026-12-01T10:00:04.000Z',
      },
      {
        deviceId: 'laptop',
        action: 'wipe',
        state: 'done',
        status: 204,
        requestId: 'r-wipe',
        at: '2026-12-01T10:00:02.000Z',
      },
      {
        deviceId: 'iphone',
        action: 'retire',
        state: 'gone',
        status: 404,
        requestId: 'r-ret',
        at: '2026-12-01T10:00:01.000Z',
      },
      {
        deviceId: 'laptop',
        action: 'delete',
        state: 'done',
        status: 204,
        requestId: 'r-del',
        at: '2026-12-01T10:00:03.000Z',
      },
    ],
    verification: {
      state: 'pending',
      checks: 1,
      devices: [],
      actions: [
        {
          deviceId: 'laptop',
          action: 'wipe',
          result: 'verified',
          stateAfter: null,
          checkedAt: '2026-12-01T10:15:00.000Z',
        },
        {
          deviceId: 'laptop',
          action: 'delete',
          result: 'verified',
          stateAfter: null,
          checkedAt: '2026-12-01T10:15:00.000Z',
        },
        {
          deviceId: 'laptop',
          action: 'autopilot-deregister',
          result: 'pending',
          stateAfter: null,
          checkedAt: '2026-12-01T10:15:00.000Z',
        },
        {
          deviceId: 'iphone',
          action: 'retire',
          result: 'verified',
          stateAfter: null,
          checkedAt: '2026-12-01T10:15:00.000Z',
        },
      ],
    },
  };
}

describe('evidence rows of a device policy', () => {
  it('adds the action columns after every existing column, in that order', () => {
    expect(EVIDENCE_ACTION_COLUMNS.slice(0, EVIDENCE_COLUMNS.length)).toEqual([...EVIDENCE_COLUMNS]);
    expect(EVIDENCE_ACTION_COLUMNS.slice(EVIDENCE_COLUMNS.length)).toEqual([
      'action',
      'actionState',
      'actionStatus',
      'actionVerification',
    ]);
    expect(DEVICE_ACTION_COLUMNS).toHaveLength(4);
  });

  it('gives one row per device × action in plan order, and one `none` row for a device left alone', () => {
    const rows = evidenceRows(policyRecord(), { actions: true });
    expect(Object.keys(rows[0] ?? {})).toEqual([...EVIDENCE_ACTION_COLUMNS]);
    expect(
      rows.map((r) => [r.deviceId, r.action, r.actionState, r.actionStatus, r.actionVerification]),
    ).toEqual([
      ['iphone', 'retire', 'gone', '404', 'verified'],
      ['laptop', 'wipe', 'done', '204', 'verified'],
      ['laptop', 'delete', 'done', '204', 'verified'],
      ['laptop', 'autopilot-deregister', 'done', '204', 'pending'],
      ['kiosk', 'none', null, null, null],
    ]);
    // Each row's action time and request-id are that action's own.
    expect(rows.map((r) => [r.actionAt, r.actionRequestId])).toEqual([
      ['2026-12-01T10:00:01.000Z', 'r-ret'],
      ['2026-12-01T10:00:02.000Z', 'r-wipe'],
      ['2026-12-01T10:00:03.000Z', 'r-del'],
      ['2026-12-01T10:00:04.000Z', null],
      [null, null],
    ]);
    expect(rows[1]?.checkedAt).toBe('2026-12-01T10:15:00.000Z');
    expect(rows.every((r) => r.outcome === 'completed' && r.user === 'mixed@contoso.test')).toBe(true);
  });

  it('without the option: one row per device as before, even for a policy record', () => {
    const rows = evidenceRows(policyRecord());
    expect(rows).toHaveLength(3);
    expect(Object.keys(rows[0] ?? {})).toEqual([...EVIDENCE_COLUMNS]);
  });

  it('names the one action of a leaver without a policy in an export with the action columns', () => {
    const record: EvidenceRecord = {
      ...policyRecord(),
      outcome: 'retired',
      action: { at: AT, requestId: 'r-post', status: 204 },
      devicePlan: undefined,
      deviceActions: undefined,
      verification: { state: 'pending', checks: 0, devices: [] },
    };
    const rows = evidenceRows(record, { actions: true });
    expect(rows.map((r) => [r.action, r.actionState, r.actionStatus, r.actionRequestId])).toEqual([
      [LEAVER_ACTION, 'done', '204', 'r-post'],
      [LEAVER_ACTION, 'done', '204', 'r-post'],
      [LEAVER_ACTION, 'done', '204', 'r-post'],
    ]);
  });

  it('keeps the CSV of a deployment without a policy byte for byte', async () => {
    const config = { devicePolicy: undefined, tenants: undefined };
    expect(exportShowsActions(config)).toBe(false);
    const columns = exportColumns(exportShowsActions(config));
    expect(columns).toBe(EVIDENCE_COLUMNS);
    let csv = '';
    for await (const chunk of csvStream(columns, evidenceRows(policyRecord()))) csv += chunk;
    const header = csv.split('\r\n')[0];
    expect(header).toBe(EVIDENCE_COLUMNS.join(','));
    expect(header?.endsWith('verifiedAt')).toBe(true);
    expect(exportShowsActions({ devicePolicy: { default: 'standard', profiles: {} } as never })).toBe(true);
  });
});
