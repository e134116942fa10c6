// The simulator's managed devices over real HTTP: deterministic 0–3 devices, $select, paging, the
// read-only permission, read throttling apart from writes, and what a retire does to the devices.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedToken, graphRead } from '../../src/graph/call.js';
import { listManagedDevices } from '../../src/graph/devices.js';
import { GraphForbiddenError, GraphNotFoundError, GraphThrottledError } from '../../src/graph/errors.js';
import { defaultDevices } from '../../src/sim/graph/devices.js';
import { PERMISSIONS } from '../../src/sim/tokens.js';
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
  sim.control({
    readLimit: null,
    devicesPageSize: 100,
    retireDelayMs: 2000,
    permissions: { grant: [PERMISSIONS.readDevices] },
  });
});

const list = (user: string) =>
  listManagedDevices({ baseUrl: sim.graphBaseUrl, user, token, timeoutMs: 5000 });

describe('simulator managed devices', () => {
  it('gives each user the same 0–3 realistic devices, spread over the counts', async () => {
    const counts = new Set<number>();
    for (let i = 0; i < 40; i++) counts.add(defaultDevices(`user${i}@contoso.com`).length);
    expect([...counts].sort()).toEqual([0, 1, 2, 3]);
    const user = [...Array(40).keys()]
      .map((i) => `user${i}@contoso.com`)
      .find((u) => defaultDevices(u).length === 3)!;
    const first = await list(user);
    const again = await list(user);
    expect(first.value).toHaveLength(3);
    expect(again.value.map((d) => d.id)).toEqual(first.value.map((d) => d.id));
    for (const d of first.value) {
      expect(['Windows', 'iOS', 'Android', 'macOS']).toContain(d.operatingSystem);
      expect(d.managementState).toBe('managed');
      expect(['company', 'personal']).toContain(d.managedDeviceOwnerType);
      expect(d.serialNumber).toMatch(/^[0-9A-F]{12}$/);
      expect(Date.parse(d.enrolledDateTime ?? '')).toBeLessThan(Date.now());
    }
    expect((await list('nodevices-ann@contoso.com')).value).toEqual([]);
  });

  it('honours $select and pages with $top / @odata.nextLink (page size set by control)', async () => {
    sim.control({ devices: { 'pat@contoso.com': 3 }, devicesPageSize: 2 });
    const page = await graphRead<Record<string, unknown>>(
      { baseUrl: sim.graphBaseUrl, timeoutMs: 5000, tokenProvider: fixedToken(token) },
      { path: 'users/pat%40contoso.com/managedDevices?$select=id,deviceName', subject: 'pat' },
    );
    expect(page.value).toHaveLength(2);
    expect(Object.keys(page.value[0] ?? {}).sort()).toEqual(['deviceName', 'id']);
    expect(page.nextLink).toContain('$skiptoken=2');
    const all = await list('pat@contoso.com');
    expect(all.pages).toBe(2);
    expect(all.requestIds).toHaveLength(2);
    expect(all.value).toHaveLength(3);
    expect(new Set(all.value.map((d) => d.id)).size).toBe(3);
    expect(sim.stats().reads?.byUser['pat@contoso.com']).toBe(3);
    // The retire action's counters are untouched by reads.
    expect(sim.stats().graph.calls).toBe(0);
  });

  it("answers the users('…') form and an unknown select field with 400", async () => {
    sim.control({ devices: { $odd: 1 } });
    const res = await fetch(`${sim.graphBaseUrl}/users('%24odd')/managedDevices`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { value: unknown[] }).value).toHaveLength(1);
    const bad = await fetch(`${sim.graphBaseUrl}/users/x%40contoso.com/managedDevices?$select=id,secret`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);
  });

  it('answers 403 while the read permission is denied, 404 for unknown users, 401 without a token', async () => {
    sim.control({ permissions: { deny: [PERMISSIONS.readDevices] } });
    await expect(list('pat@contoso.com')).rejects.toBeInstanceOf(GraphForbiddenError);
    // The write permission is another one: the retire still works.
    expect((await postRetire(sim, 'pat@contoso.com', token)).status).toBe(204);
    sim.control({ permissions: { grant: [PERMISSIONS.readDevices] } });
    await expect(list('notfound-zed@contoso.com')).rejects.toBeInstanceOf(GraphNotFoundError);
    const res = await fetch(`${sim.graphBaseUrl}/users/pat%40contoso.com/managedDevices`);
    expect(res.status).toBe(401);
  });

  it('throttles reads on their own window; writes are not limited by it', async () => {
    sim.control({ readLimit: { limit: 2, windowMs: 1000 } });
    await list('a@contoso.com');
    await list('b@contoso.com');
    const err = await list('c@contoso.com').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphThrottledError);
    expect((err as GraphThrottledError).retryAfterMs).toBeGreaterThan(0);
    // Writes are not counted against the read window.
    expect((await postRetire(sim, 'c@contoso.com', token)).status).toBe(204);
    expect(sim.stats().reads?.throttled).toBe(1);
    expect(sim.stats().graph.throttled).toBe(0);
  });

  it('moves devices after a retire: retirePending, then gone; neverChecksIn stays; fails ends retireFailed', async () => {
    sim.control({
      retireDelayMs: 300,
      devices: {
        'ok@contoso.com': 2,
        'mixed@contoso.com': [
          { deviceName: 'LAPTOP-1' },
          { deviceName: 'PHONE-1', behaviour: 'neverChecksIn' },
        ],
        'bad@contoso.com': 1,
      },
      deviceBehaviour: { 'bad@contoso.com': 'fails' },
    });
    for (const u of ['ok@contoso.com', 'mixed@contoso.com', 'bad@contoso.com']) {
      expect((await postRetire(sim, u, token)).status).toBe(204);
    }
    expect((await list('ok@contoso.com')).value.map((d) => d.managementState)).toEqual([
      'retirePending',
      'retirePending',
    ]);
    await new Promise((r) => setTimeout(r, 350));
    expect((await list('ok@contoso.com')).value).toEqual([]);
    const mixed = await list('mixed@contoso.com');
    expect(mixed.value.map((d) => [d.deviceName, d.managementState])).toEqual([['PHONE-1', 'retirePending']]);
    expect((await list('bad@contoso.com')).value.map((d) => d.managementState)).toEqual(['retireFailed']);
    const view = (await (await fetch(`${sim.controlUrl}/devices?user=bad%40contoso.com`)).json()) as {
      retiredAt: string;
    };
    expect(view).toMatchObject({ user: 'bad@contoso.com', devices: [{ managementState: 'retireFailed' }] });
    expect(view.retiredAt).toMatch(/^\d{4}-/);
  });

  it('plays scripted read answers (503 then the list) and rejects an invalid control', async () => {
    sim.control({ devices: { 's@contoso.com': 1 }, readScript: { 's@contoso.com': [503] } });
    await expect(list('s@contoso.com')).rejects.toMatchObject({ status: 503 });
    expect((await list('s@contoso.com')).value).toHaveLength(1);
    const res = await fetch(`${sim.controlUrl}/control`, {
      method: 'POST',
      body: JSON.stringify({ deviceBehaviour: { 'x@contoso.com': 'explodes' } }),
    });
    expect(res.status).toBe(400);
  });
});
