// The per-device Intune writes share the retire's write budget and fault switches (issue 21), over
// real loopback HTTP: one per-app limiter for removeAllDevicesFromManagement, retire, wipe, delete and
// Autopilot deletes; the outage switch; scripted answers by device id; each write's permission (403
// like Graph); and the ordered call log a test asserts "exactly these calls in this order" with.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixtureDeviceId } from '../../src/sim/graph/device-actions-fixtures.js';
import { PERMISSIONS } from '../../src/sim/tokens.js';
import type { CallLogEntry } from '../../src/sim/types.js';
import { fetchAppToken, postRetire, startTestSimulator, type TestSimulator } from '../helpers/sim.js';

let sim: TestSimulator;
let token: string;

beforeAll(async () => {
  sim = await startTestSimulator();
  token = await fetchAppToken(sim);
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.reset();
  sim.control({ retireDelayMs: 300, limit: null, outage: null, readLimit: null });
});

const MIXED = 'leaver-mixed-dee@contoso.test';
const IPHONE = fixtureDeviceId(MIXED, 'iphone');
const LAPTOP = fixtureDeviceId(MIXED, 'laptop');
const ANDROID = fixtureDeviceId(MIXED, 'android');

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${sim.graphBaseUrl}/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return res;
}
const device = (id: string) => `deviceManagement/managedDevices/${id}`;
const wire = (path: string) => {
  const u = new URL(`${sim.graphBaseUrl}/${path}`);
  return `${u.pathname}${u.search}`;
};
/** Shows the user's devices to the simulator (the inventory read the worker makes first). */
const inventory = () => call('GET', `users/${encodeURIComponent(MIXED)}/managedDevices?$select=id`);

describe('per-device writes and the write budget', () => {
  it('count against the same per-app write limiter as the retire of all devices', async () => {
    sim.control({ limit: { limit: 3, windowMs: 60_000 } });
    await inventory();
    expect((await postRetire(sim, 'someone@contoso.test', token)).status).toBe(204);
    expect((await call('POST', `${device(IPHONE)}/retire`)).status).toBe(204);
    expect((await call('POST', `${device(ANDROID)}/wipe`, {})).status).toBe(204);
    const throttled = await call('DELETE', device(LAPTOP));
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(50);
    const stats = sim.stats();
    expect(stats.graph.calls).toBe(4);
    expect(stats.graph.throttled).toBe(1);
    expect(stats.graph.byStatus).toEqual({ '204': 3, '429': 1 });
    // The throttled delete changed nothing: the laptop is still there, managed.
    expect(sim.devices(MIXED).devices.find((d) => d.id === LAPTOP)?.managementState).toBe('managed');
  });

  it('honour the outage switch and scripted answers by device id, like the retire', async () => {
    await inventory();
    sim.control({ outage: { status: 503 } });
    expect((await call('POST', `${device(LAPTOP)}/wipe`, {})).status).toBe(503);
    expect((await call('GET', `${device(LAPTOP)}?$select=id`)).status).toBe(503);
    sim.control({ outage: null, script: { [LAPTOP]: [{ status: 429, retryAfter: '0' }, 500] } });
    expect((await call('POST', `${device(LAPTOP)}/wipe`, {})).status).toBe(429);
    expect((await call('POST', `${device(LAPTOP)}/wipe`, {})).status).toBe(500);
    expect((await call('POST', `${device(LAPTOP)}/wipe`, {})).status).toBe(204);
    expect(sim.devices(MIXED).devices.find((d) => d.id === LAPTOP)?.managementState).toBe('wipePending');
  });

  it('need their own application permission: 403 when it is taken away', async () => {
    await inventory();
    const cases: [string, () => Promise<Response>][] = [
      [PERMISSIONS.retire, () => call('POST', `${device(IPHONE)}/retire`)],
      [PERMISSIONS.retire, () => call('POST', `${device(LAPTOP)}/wipe`, {})],
      [PERMISSIONS.deleteDevices, () => call('DELETE', device(LAPTOP))],
      [PERMISSIONS.autopilot, () => call('GET', 'deviceManagement/windowsAutopilotDeviceIdentities')],
      [
        PERMISSIONS.autopilot,
        () => call('DELETE', `deviceManagement/windowsAutopilotDeviceIdentities/${LAPTOP}`),
      ],
    ];
    for (const [permission, send] of cases) {
      sim.control({ permissions: { deny: [permission] } });
      try {
        expect((await send()).status, permission).toBe(403);
      } finally {
        sim.control({ permissions: { grant: [permission] } });
      }
    }
    // Nothing was changed by a refused call.
    expect(sim.devices(MIXED).devices.map((d) => d.managementState)).toEqual([
      'managed',
      'managed',
      'managed',
    ]);
  });
});

describe('the ordered Intune call log', () => {
  it('lists every write and per-device read in arrival order, with its status, also at /_sim/stats', async () => {
    await inventory();
    const serial = sim.devices(MIXED).devices.find((d) => d.id === LAPTOP)?.serialNumber as string;
    const lookup = `deviceManagement/windowsAutopilotDeviceIdentities?$filter=${encodeURIComponent(`contains(serialNumber,'${serial}')`)}&$select=id`;
    await call('POST', `${device(IPHONE)}/retire`);
    await call('POST', `${device(LAPTOP)}/wipe`, { keepEnrollmentData: false });
    await call('DELETE', device(LAPTOP));
    const res = await fetch(`${sim.graphBaseUrl}/${lookup}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { value } = (await res.json()) as { value: { id: string }[] };
    await call('DELETE', `deviceManagement/windowsAutopilotDeviceIdentities/${value[0]?.id}`);
    await call('POST', `${device(ANDROID)}/retire`);

    const expected: Omit<CallLogEntry, 'at'>[] = [
      { method: 'POST', path: `/v1.0/${device(IPHONE)}/retire`, status: 204, write: true },
      { method: 'POST', path: `/v1.0/${device(LAPTOP)}/wipe`, status: 204, write: true },
      { method: 'DELETE', path: `/v1.0/${device(LAPTOP)}`, status: 204, write: true },
      // As on the wire: fetch percent-encodes the quotes of the query.
      { method: 'GET', path: wire(lookup), status: 200, write: false },
      {
        method: 'DELETE',
        path: `/v1.0/deviceManagement/windowsAutopilotDeviceIdentities/${value[0]?.id}`,
        status: 204,
        write: true,
      },
      { method: 'POST', path: `/v1.0/${device(ANDROID)}/retire`, status: 400, write: true },
    ];
    const strip = (calls: CallLogEntry[]) => calls.map(({ at: _at, ...c }) => c);
    expect(strip(sim.stats().calls)).toEqual(expected);
    const over = (await (await fetch(`${sim.controlUrl}/stats`)).json()) as { calls: CallLogEntry[] };
    expect(strip(over.calls)).toEqual(expected);
    const times = over.calls.map((c) => c.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // The users' device lists are counted in `reads`, not logged here; reset clears the log.
    expect(sim.stats().reads?.calls).toBe(2);
    sim.reset();
    expect(sim.stats().calls).toEqual([]);
  });
});
