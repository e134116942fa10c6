// The pure verification rules (src/evidence/verification.ts): one row per rule of the per-device
// and per-leaver decision, the backoff schedule, and failed reads.
import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  decideVerification,
  MAX_VERIFY_INTERVAL_MS,
  NOTE_READ_FAILED,
  nextCheckAt,
} from '../../src/evidence/verification.js';
import type { DeviceCheck, DeviceResult, ManagedDevice, VerificationState } from '../../src/interfaces.js';

const MIN = 60_000;
const T0 = Date.parse('2026-12-01T10:00:00Z');
const DEADLINE = T0 + 72 * 60 * MIN;

const dev = (id: string, managementState: string | null = 'managed'): ManagedDevice => ({
  id,
  deviceName: `PC-${id}`,
  managementState,
});

interface Row {
  name: string;
  inventory: string[];
  /** id → managementState now; absent id = gone from the list. */
  now: Record<string, string>;
  atDeadline?: boolean;
  results: DeviceResult[];
  state: VerificationState;
  next: boolean;
}

const rows: Row[] = [
  {
    name: 'gone → retired; all retired → verified',
    inventory: ['a', 'b'],
    now: {},
    results: ['retired', 'retired'],
    state: 'verified',
    next: false,
  },
  {
    name: 'retirePending → pending, keep reading',
    inventory: ['a'],
    now: { a: 'retirePending' },
    results: ['pending'],
    state: 'pending',
    next: true,
  },
  {
    name: 'retireIssued → pending',
    inventory: ['a'],
    now: { a: 'retireIssued' },
    results: ['pending'],
    state: 'pending',
    next: true,
  },
  {
    name: 'managed → pending before the deadline',
    inventory: ['a'],
    now: { a: 'managed' },
    results: ['pending'],
    state: 'pending',
    next: true,
  },
  {
    name: 'unknown state → pending',
    inventory: ['a'],
    now: { a: 'wipePending' },
    results: ['pending'],
    state: 'pending',
    next: true,
  },
  {
    name: 'managed at the deadline → not_retired, unverified',
    inventory: ['a'],
    now: { a: 'managed' },
    atDeadline: true,
    results: ['not_retired'],
    state: 'unverified',
    next: false,
  },
  {
    name: 'retirePending at the deadline → not_retired',
    inventory: ['a', 'b'],
    now: { a: 'retirePending' },
    atDeadline: true,
    results: ['not_retired', 'retired'],
    state: 'unverified',
    next: false,
  },
  {
    name: 'retireFailed → failed, unverified',
    inventory: ['a'],
    now: { a: 'retireFailed' },
    results: ['failed'],
    state: 'unverified',
    next: false,
  },
  {
    name: 'retireCanceled → failed',
    inventory: ['a', 'b'],
    now: { a: 'retireCanceled' },
    results: ['failed', 'retired'],
    state: 'unverified',
    next: false,
  },
  {
    name: 'one failed, one still pending → keep checking the other',
    inventory: ['a', 'b'],
    now: { a: 'retireFailed', b: 'retirePending' },
    results: ['failed', 'pending'],
    state: 'pending',
    next: true,
  },
  {
    name: 'a device not in the inventory is not judged',
    inventory: ['a'],
    now: { z: 'managed' },
    results: ['retired'],
    state: 'verified',
    next: false,
  },
  {
    name: 'no inventoried device: nothing to verify',
    inventory: [],
    now: { z: 'managed' },
    results: [],
    state: 'not_applicable',
    next: false,
  },
];

describe('verification rules', () => {
  it.each(rows)('$name', (row) => {
    const now = row.atDeadline ? DEADLINE : T0 + 15 * MIN;
    const d = decideVerification({
      inventory: row.inventory.map((id) => dev(id)),
      current: Object.entries(row.now).map(([id, s]) => dev(id, s)),
      now,
      deadline: DEADLINE,
      checksBefore: 0,
      verifyAfterMs: 15 * MIN,
    });
    expect(d.devices.map((c) => c.result)).toEqual(row.results);
    expect(d.state).toBe(row.state);
    expect(d.nextCheckAt !== undefined).toBe(row.next);
    for (const c of d.devices) {
      expect(c.checkedAt).toBe(new Date(now).toISOString());
      expect(c.stateAfter).toBe(row.now[c.deviceId] ?? null);
    }
    expect(d.unexpectedDevices).toEqual(Object.keys(row.now).filter((id) => !row.inventory.includes(id)));
  });

  it('backs off by doubling VERIFY_AFTER, capped, and never reads past the deadline (last read at it)', () => {
    expect([1, 2, 3, 4, 5, 9].map((k) => backoffMs(k, 15 * MIN))).toEqual([
      30 * MIN,
      60 * MIN,
      120 * MIN,
      240 * MIN,
      MAX_VERIFY_INTERVAL_MS,
      MAX_VERIFY_INTERVAL_MS,
    ]);
    expect(nextCheckAt(T0, DEADLINE, 1, 15 * MIN)).toBe(T0 + 30 * MIN);
    expect(nextCheckAt(DEADLINE - MIN, DEADLINE, 3, 15 * MIN)).toBe(DEADLINE);

    // Walk a whole default window: reads end exactly at the deadline, about 20 of them.
    let t = T0 + 15 * MIN;
    let checks = 1;
    while (t < DEADLINE) {
      t = nextCheckAt(t, DEADLINE, checks, 15 * MIN);
      checks++;
    }
    expect(t).toBe(DEADLINE);
    expect(checks).toBeGreaterThan(15);
    expect(checks).toBeLessThan(25);
    // Short test settings: 300 ms then 600, 1200, capped by a 4 s window.
    expect(nextCheckAt(300, 4000, 1, 300)).toBe(900);
    expect(nextCheckAt(2100, 4000, 3, 300)).toBe(4000);
  });

  it('a failed read keeps the last known results and reads again; at the deadline pending becomes not_retired with a note', () => {
    const previous: DeviceCheck[] = [
      { deviceId: 'a', result: 'retired', stateAfter: null, checkedAt: new Date(T0).toISOString() },
      {
        deviceId: 'b',
        result: 'pending',
        stateAfter: 'retirePending',
        checkedAt: new Date(T0).toISOString(),
      },
    ];
    const base = {
      inventory: [dev('a'), dev('b'), dev('c')],
      current: null,
      previous,
      deadline: DEADLINE,
      checksBefore: 2,
      verifyAfterMs: 15 * MIN,
    };
    const mid = decideVerification({ ...base, now: T0 + 60 * MIN });
    expect(mid.devices.map((c) => c.result)).toEqual(['retired', 'pending', 'pending']);
    expect(mid.devices[1]).toEqual(previous[1]);
    expect(mid.state).toBe('pending');
    expect(mid.nextCheckAt).toBe(T0 + 60 * MIN + backoffMs(3, 15 * MIN));

    const end = decideVerification({ ...base, now: DEADLINE });
    expect(end.devices.map((c) => c.result)).toEqual(['retired', 'not_retired', 'not_retired']);
    expect(end.devices[1]?.note).toBe(NOTE_READ_FAILED);
    expect(end.devices[0]?.note).toBeUndefined();
    expect(end.state).toBe('unverified');
    expect(end.nextCheckAt).toBeUndefined();
  });

  it('latest read wins: a failed device that an admin retried and that is gone now ends retired', () => {
    const d = decideVerification({
      inventory: [dev('a')],
      current: [],
      previous: [
        {
          deviceId: 'a',
          result: 'failed',
          stateAfter: 'retireFailed',
          checkedAt: new Date(T0).toISOString(),
        },
      ],
      now: T0 + 90 * MIN,
      deadline: DEADLINE,
      checksBefore: 3,
      verifyAfterMs: 15 * MIN,
    });
    expect(d.state).toBe('verified');
  });
});
