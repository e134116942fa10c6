// One job's evidence view under a device policy (src/evidence/view.ts): each device lists its actions
// in the plan's order with result and verification, the profile is named, and `offboard status`'s
// lines show them; a record without a policy has neither (the view as before).
import { describe, expect, it } from 'vitest';
import { evidenceView } from '../../src/evidence/view.js';
import { deviceActionLines } from '../../src/evidence/view-lines.js';
import type { EvidenceRecord } from '../../src/interfaces.js';

const AT = '2026-12-01T10:00:00.000Z';

const base: EvidenceRecord = {
  jobId: 'j',
  user: 'u@contoso.test',
  requestedBy: 'hr',
  correlationId: 'c',
  source: 'api',
  inventoriedAt: AT,
  inventoryRequestIds: [],
  devices: [
    { id: 'laptop', operatingSystem: 'Windows', serialNumber: 'SN1', managementState: 'managed' },
    { id: 'kiosk', operatingSystem: 'Android' },
  ],
  outcome: 'completed',
  verification: { state: 'pending', checks: 0, devices: [] },
};

describe('evidenceView with device actions', () => {
  it('lists each device’s actions in plan order with their verification, and the profile', () => {
    const view = evidenceView({
      ...base,
      devicePlan: [
        {
          deviceId: 'laptop',
          profile: 'dispose',
          rule: 1,
          actions: [{ action: 'wipe' }, { action: 'delete' }],
        },
        { deviceId: 'kiosk', profile: 'dispose', rule: 2, actions: [] },
      ],
      deviceActions: [
        {
          deviceId: 'laptop',
          action: 'delete',
          state: 'failed',
          status: 400,
          graphCode: 'BadRequest',
          at: AT,
        },
        { deviceId: 'laptop', action: 'wipe', state: 'done', status: 204, requestId: 'r-w', at: AT },
      ],
      verification: {
        state: 'unverified',
        checks: 1,
        devices: [{ deviceId: 'laptop', result: 'failed', stateAfter: 'wipePending', checkedAt: AT }],
        actions: [
          { deviceId: 'laptop', action: 'wipe', result: 'verified', stateAfter: null, checkedAt: AT },
          {
            deviceId: 'laptop',
            action: 'delete',
            result: 'failed',
            stateAfter: null,
            checkedAt: AT,
            note: 'n',
          },
        ],
      },
    });
    expect(view.devicePolicy).toBe('dispose');
    expect('actions' in view.verification).toBe(false);
    const [laptop, kiosk] = view.devices;
    expect(laptop?.policy).toEqual({ profile: 'dispose', rule: 1 });
    expect(laptop?.actions?.map((a) => [a.action, a.state, a.status, a.verification?.result])).toEqual([
      ['wipe', 'done', 204, 'verified'],
      ['delete', 'failed', 400, 'failed'],
    ]);
    expect(laptop?.actions?.[1]?.graphCode).toBe('BadRequest');
    expect(kiosk?.actions).toEqual([]);
    const lines = deviceActionLines(laptop ?? {}, '');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^wipe\s+done HTTP 204 .*request-id r-w → verified$/);
    expect(lines[1]).toMatch(/^delete\s+failed HTTP 400 \(BadRequest\).* → failed \(n\)$/);
    expect(deviceActionLines(kiosk ?? {}, '')).toEqual(['no action (profile dispose rule 2)']);
  });

  it('adds nothing for a record without a policy', () => {
    const view = evidenceView({ ...base, outcome: 'retired' });
    expect(view.devicePolicy).toBeUndefined();
    expect(view.devices.every((d) => !('actions' in d) && !('policy' in d))).toBe(true);
    expect(deviceActionLines(view.devices[0] ?? {})).toEqual([]);
  });
});
