// The pure verification rules of a device policy's actions (src/evidence/verification-actions.ts):
// one row per rule of the per-action decision, the leaver's state, failed reads, the deadline, which
// reads a check needs, and each device's summary.
import { describe, expect, it } from 'vitest';
import { NOTE_READ_FAILED } from '../../src/evidence/verification.js';
import {
  type AutopilotRead,
  type DeviceRead,
  decideActionVerification,
  initialActionChecks,
  NOTE_ACTION_NOT_DONE,
  NOTE_NO_SERIAL,
  readsNeeded,
} from '../../src/evidence/verification-actions.js';
import type {
  DeviceActionResult,
  DeviceActionVerification,
  ManagedDevice,
  VerificationState,
} from '../../src/interfaces.js';

const MIN = 60_000;
const T0 = Date.parse('2026-12-01T10:00:00Z');
const DEADLINE = T0 + 72 * 60 * MIN;

const inventory: ManagedDevice[] = [
  { id: 'iphone', operatingSystem: 'iOS', managedDeviceOwnerType: 'personal', managementState: 'managed' },
  {
    id: 'laptop',
    operatingSystem: 'Windows',
    managedDeviceOwnerType: 'company',
    serialNumber: 'SN-LAPTOP',
    managementState: 'managed',
  },
  { id: 'nosn', operatingSystem: 'Windows', managedDeviceOwnerType: 'company', managementState: 'managed' },
];

const done = (deviceId: string, action: DeviceActionResult['action']): DeviceActionResult => ({
  deviceId,
  action,
  state: 'done',
  status: 204,
  requestId: `r-${deviceId}-${action}`,
  at: new Date(T0).toISOString(),
});

const ok = (managementState: string, actions: [string, string][] = []): DeviceRead => ({
  kind: 'ok',
  device: {
    id: 'x',
    managementState,
    deviceActionResults: actions.map(([actionName, actionState]) => ({ actionName, actionState })),
  },
});

interface Row {
  name: string;
  results: DeviceActionResult[];
  devices?: Record<string, DeviceRead>;
  autopilot?: Record<string, AutopilotRead>;
  atDeadline?: boolean;
  expect: DeviceActionVerification[];
  state: VerificationState;
}

const rows: Row[] = [
  {
    name: 'retire: device gone (404) → verified',
    results: [done('iphone', 'retire')],
    devices: { iphone: { kind: 'gone' } },
    expect: ['verified'],
    state: 'verified',
  },
  {
    name: 'retire: retirePending → pending',
    results: [done('iphone', 'retire')],
    devices: { iphone: ok('retirePending') },
    expect: ['pending'],
    state: 'pending',
  },
  {
    name: 'retire: deviceActionResults done → verified though the device is still listed',
    results: [done('iphone', 'retire')],
    devices: { iphone: ok('retireIssued', [['retire', 'done']]) },
    expect: ['verified'],
    state: 'verified',
  },
  {
    name: 'wipe: wipePending then the action log says failed → failed',
    results: [done('laptop', 'wipe')],
    devices: { laptop: ok('wipePending', [['wipe', 'failed']]) },
    expect: ['failed'],
    state: 'unverified',
  },
  {
    name: 'wipe: notSupported → failed',
    results: [done('laptop', 'wipe')],
    devices: { laptop: ok('managed', [['wipe', 'notSupported']]) },
    expect: ['failed'],
    state: 'unverified',
  },
  {
    name: 'wipe: managementState wipeFailed → failed',
    results: [done('laptop', 'wipe')],
    devices: { laptop: ok('wipeFailed') },
    expect: ['failed'],
    state: 'unverified',
  },
  {
    name: 'wipe: another action done does not prove the wipe',
    results: [done('laptop', 'wipe')],
    devices: { laptop: ok('wipePending', [['retire', 'done']]) },
    expect: ['pending'],
    state: 'pending',
  },
  {
    name: 'wipe pending at the deadline → not_verified',
    results: [done('laptop', 'wipe')],
    devices: { laptop: ok('wipePending') },
    atDeadline: true,
    expect: ['not_verified'],
    state: 'unverified',
  },
  {
    name: 'delete: 404 → verified; autopilot: no identity → verified',
    results: [done('laptop', 'wipe'), done('laptop', 'delete'), done('laptop', 'autopilot-deregister')],
    devices: { laptop: { kind: 'gone' } },
    autopilot: { 'SN-LAPTOP': { kind: 'ok', identities: 0 } },
    expect: ['verified', 'verified', 'verified'],
    state: 'verified',
  },
  {
    name: 'delete: still readable (deletePending) → pending; autopilot identity left → pending',
    results: [done('laptop', 'delete'), done('laptop', 'autopilot-deregister')],
    devices: { laptop: ok('deletePending') },
    autopilot: { 'SN-LAPTOP': { kind: 'ok', identities: 1 } },
    expect: ['pending', 'pending'],
    state: 'pending',
  },
  {
    name: 'a 404 when acting (gone) is verified by the read like done',
    results: [{ ...done('iphone', 'retire'), state: 'gone', status: 404 }],
    devices: { iphone: { kind: 'gone' } },
    expect: ['verified'],
    state: 'verified',
  },
  {
    name: 'a failed or skipped action is failed whatever the reads say',
    results: [
      { deviceId: 'laptop', action: 'wipe', state: 'failed', status: 400 },
      { deviceId: 'laptop', action: 'delete', state: 'skipped' },
      done('iphone', 'retire'),
    ],
    devices: { laptop: { kind: 'gone' }, iphone: { kind: 'gone' } },
    expect: ['failed', 'failed', 'verified'],
    state: 'unverified',
  },
  {
    name: 'a failed read keeps pending before the deadline',
    results: [done('iphone', 'retire')],
    devices: { iphone: { kind: 'failed' } },
    expect: ['pending'],
    state: 'pending',
  },
  {
    name: 'autopilot without a serial number cannot be proven → not_verified at once',
    results: [done('nosn', 'autopilot-deregister')],
    expect: ['not_verified'],
    state: 'unverified',
  },
];

describe('decideActionVerification', () => {
  for (const row of rows) {
    it(row.name, () => {
      const d = decideActionVerification({
        inventory,
        results: row.results,
        devices: new Map(Object.entries(row.devices ?? {})),
        autopilot: new Map(Object.entries(row.autopilot ?? {})),
        now: row.atDeadline ? DEADLINE : T0 + 15 * MIN,
        deadline: DEADLINE,
        checksBefore: 0,
        verifyAfterMs: 15 * MIN,
      });
      expect(d.actions.map((a) => a.result)).toEqual(row.expect);
      expect(d.actions.map((a) => `${a.deviceId}:${a.action}`)).toEqual(
        row.results.map((r) => `${r.deviceId}:${r.action}`),
      );
      expect(d.state).toBe(row.state);
      expect(d.nextCheckAt !== undefined).toBe(row.state === 'pending');
    });
  }

  it('notes why: an action not done, no serial number, reads failed until the deadline', () => {
    const d = decideActionVerification({
      inventory,
      results: [
        { deviceId: 'laptop', action: 'wipe', state: 'failed' },
        done('nosn', 'autopilot-deregister'),
        done('iphone', 'retire'),
      ],
      devices: new Map([['iphone', { kind: 'failed' } as DeviceRead]]),
      autopilot: new Map(),
      now: DEADLINE,
      deadline: DEADLINE,
      checksBefore: 3,
      verifyAfterMs: 15 * MIN,
    });
    expect(d.actions.map((a) => a.note)).toEqual([NOTE_ACTION_NOT_DONE, NOTE_NO_SERIAL, NOTE_READ_FAILED]);
    expect(d.actions.map((a) => a.result)).toEqual(['failed', 'not_verified', 'not_verified']);
  });

  it('keeps a final result from an earlier check without reading again, and records actionState', () => {
    const results = [done('laptop', 'wipe'), done('laptop', 'delete')];
    const first = decideActionVerification({
      inventory,
      results,
      devices: new Map([['laptop', ok('wipePending', [['wipe', 'done']])]]),
      autopilot: new Map(),
      now: T0 + 15 * MIN,
      deadline: DEADLINE,
      checksBefore: 0,
      verifyAfterMs: 15 * MIN,
    });
    expect(first.actions.map((a) => a.result)).toEqual(['verified', 'pending']);
    expect(first.actions[0]?.actionState).toBe('done');
    expect(first.actions[0]?.stateAfter).toBe('wipePending');
    // The laptop is read again only for its delete; the wipe's proof stays as it was.
    expect(readsNeeded({ inventory, results, previous: first.actions })).toEqual({
      devices: ['laptop'],
      serials: [],
    });
    const second = decideActionVerification({
      inventory,
      results,
      devices: new Map([['laptop', { kind: 'gone' } as DeviceRead]]),
      autopilot: new Map(),
      previous: first.actions,
      now: T0 + 45 * MIN,
      deadline: DEADLINE,
      checksBefore: 1,
      verifyAfterMs: 15 * MIN,
    });
    expect(second.actions.map((a) => a.result)).toEqual(['verified', 'verified']);
    expect(second.actions[0]).toEqual(first.actions[0]);
    expect(second.state).toBe('verified');
    expect(second.devices).toEqual([
      // The device's state as the latest read saw it: gone.
      { deviceId: 'laptop', result: 'retired', stateAfter: null, checkedAt: second.actions[1]?.checkedAt },
    ]);
  });

  it('summarises each device: pending before failed before retired', () => {
    const d = decideActionVerification({
      inventory,
      results: [done('iphone', 'retire'), done('laptop', 'wipe'), done('laptop', 'delete')],
      devices: new Map<string, DeviceRead>([
        ['iphone', ok('retireFailed')],
        ['laptop', ok('wipePending')],
      ]),
      autopilot: new Map(),
      now: T0 + 15 * MIN,
      deadline: DEADLINE,
      checksBefore: 0,
      verifyAfterMs: 15 * MIN,
    });
    expect(d.devices.map((x) => [x.deviceId, x.result])).toEqual([
      ['iphone', 'failed'],
      ['laptop', 'pending'],
    ]);
  });
});

describe('readsNeeded and initialActionChecks', () => {
  it('reads each device once and each serial once, never for an action that did not go out', () => {
    const results = [
      done('iphone', 'retire'),
      done('laptop', 'wipe'),
      done('laptop', 'delete'),
      done('laptop', 'autopilot-deregister'),
      { deviceId: 'nosn', action: 'wipe', state: 'failed' } as DeviceActionResult,
    ];
    expect(readsNeeded({ inventory, results })).toEqual({
      devices: ['iphone', 'laptop'],
      serials: ['SN-LAPTOP'],
    });
    expect(initialActionChecks(results, 'T').map((c) => c.result)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
      'failed',
    ]);
  });
});
