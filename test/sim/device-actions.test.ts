// The simulator's per-device Intune actions (issue 21) over real loopback HTTP: retire / wipe / delete
// of one managed device, Autopilot identities by serial number and their deregistration, the platform
// rules (Graph-like 400s), v1.0 body checks on the wipe, 404 for unknown ids, the bypass code only
// when selected, and the state machine (pending → done, gone from the user's list, deleted → 404).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enumMembers, propertiesOf } from '../../src/graph/contract/load.js';
import { NO_MANAGED_DEVICE } from '../../src/sim/graph/autopilot.js';
import { fixtureDeviceId } from '../../src/sim/graph/device-actions-fixtures.js';
import { PERMISSIONS } from '../../src/sim/tokens.js';
import { fetchAppToken, startTestSimulator, type TestSimulator } from '../helpers/sim.js';

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

type Body = Record<string, unknown> & { error?: { code: string; message: string }; value?: Body[] };

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${sim.graphBaseUrl}/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Body) : {} };
}

const MIXED = 'leaver-mixed-ann@contoso.test';
const device = (id: string) => `deviceManagement/managedDevices/${id}`;
const listed = async (user: string) =>
  ((await call('GET', `users/${encodeURIComponent(user)}/managedDevices?$select=id,managementState`)).body
    .value ?? []) as { id: string; managementState: string }[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('simulator fixtures for device policies', () => {
  it('gives leaver-mixed a personal iPhone, a company Windows laptop and a company Android phone, all v1.0', async () => {
    const res = await call('GET', `users/${encodeURIComponent(MIXED)}/managedDevices`);
    expect(res.status).toBe(200);
    const devices = res.body.value ?? [];
    const props = propertiesOf('managedDevice') ?? {};
    for (const d of devices) {
      for (const [key, value] of Object.entries(d)) {
        expect(props, key).toHaveProperty(key);
        const members = enumMembers(props[key] as string);
        if (members && value !== null) expect(members, `${key}=${value}`).toContain(value);
      }
    }
    const pick = (d: Body) => [
      d.id,
      d.operatingSystem,
      d.managedDeviceOwnerType,
      d.deviceEnrollmentType,
      d.isSupervised,
    ];
    expect(devices.map(pick)).toEqual([
      [fixtureDeviceId(MIXED, 'iphone'), 'iOS', 'personal', 'appleUserEnrollment', false],
      [fixtureDeviceId(MIXED, 'laptop'), 'Windows', 'company', 'windowsAzureADJoin', false],
      [fixtureDeviceId(MIXED, 'android'), 'Android', 'company', 'unknownFutureValue', false],
    ]);
  });
});

describe('simulator per-device actions', () => {
  it('retire: 204, retirePending with a pending deviceActionResult, then gone from the list and done', async () => {
    await listed(MIXED);
    const iphone = fixtureDeviceId(MIXED, 'iphone');
    expect((await call('POST', `${device(iphone)}/retire`)).status).toBe(204);
    expect((await listed(MIXED)).find((d) => d.id === iphone)?.managementState).toBe('retirePending');
    const pending = await call('GET', `${device(iphone)}?$select=id,managementState,deviceActionResults`);
    expect(pending.status).toBe(200);
    expect(pending.body.managementState).toBe('retirePending');
    expect(pending.body.deviceActionResults).toMatchObject([
      { actionName: 'retire', actionState: 'pending' },
    ]);
    await sleep(400);
    expect((await listed(MIXED)).map((d) => d.id)).not.toContain(iphone);
    const done = await call('GET', `${device(iphone)}?$select=id,deviceActionResults`);
    expect(done.body.deviceActionResults).toMatchObject([{ actionName: 'retire', actionState: 'done' }]);
    // The other devices are untouched.
    expect((await listed(MIXED)).map((d) => d.managementState)).toEqual(['managed', 'managed']);
  });

  it('wipe with v1.0 parameters: 204 and wipePending; a device that fails reads wipeFailed / failed', async () => {
    await listed(MIXED);
    const android = fixtureDeviceId(MIXED, 'android');
    const laptop = fixtureDeviceId(MIXED, 'laptop');
    sim.control({ deviceBehaviour: { [laptop]: 'fails' } });
    const wipe = await call('POST', `${device(android)}/wipe`, {
      keepEnrollmentData: false,
      keepUserData: false,
    });
    expect(wipe.status).toBe(204);
    expect((await call('POST', `${device(laptop)}/wipe`, {})).status).toBe(204);
    expect((await listed(MIXED)).filter((d) => d.id !== fixtureDeviceId(MIXED, 'iphone'))).toEqual([
      { id: laptop, managementState: 'wipePending' },
      { id: android, managementState: 'wipePending' },
    ]);
    await sleep(400);
    expect(await listed(MIXED)).toEqual([
      { id: fixtureDeviceId(MIXED, 'iphone'), managementState: 'managed' },
      { id: laptop, managementState: 'wipeFailed' },
    ]);
    const failed = await call('GET', `${device(laptop)}?$select=deviceActionResults`);
    expect(failed.body.deviceActionResults).toMatchObject([{ actionName: 'wipe', actionState: 'failed' }]);
  });

  it('refuses by platform: wipe on iOS User Enrollment and Android personal, retire on Android company', async () => {
    await listed(MIXED);
    await listed('leaver-byod-bo@contoso.test');
    const cases: [string, string, RegExp][] = [
      [fixtureDeviceId(MIXED, 'iphone'), 'wipe', /User Enrollment/],
      [fixtureDeviceId('leaver-byod-bo@contoso.test', 'byod'), 'wipe', /Android personally-owned/],
      [fixtureDeviceId(MIXED, 'android'), 'retire', /corporate-owned/],
    ];
    for (const [id, action, message] of cases) {
      const res = await call('POST', `${device(id)}/${action}`, action === 'wipe' ? {} : undefined);
      expect(res.status, `${action} ${id}`).toBe(400);
      expect(res.body.error?.code).toBe('BadRequest');
      expect(res.body.error?.message).toMatch(message);
    }
    // Refused actions changed nothing.
    expect((await listed(MIXED)).every((d) => d.managementState === 'managed')).toBe(true);
  });

  it('holds the wipe body to v1.0: an unknown parameter or a wrong type is refused like Graph', async () => {
    await listed(MIXED);
    const id = fixtureDeviceId(MIXED, 'laptop');
    const unknown = await call('POST', `${device(id)}/wipe`, {
      keepEnrollmentData: true,
      useProtectedWipe: true,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toBe(
      "The parameter 'useProtectedWipe' in the request payload is not a valid parameter for the operation 'wipe'.",
    );
    const wrongType = await call('POST', `${device(id)}/wipe`, { keepUserData: 'yes' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error?.message).toBe(
      "Cannot convert a primitive value to the expected type 'Edm.Boolean'. See the inner exception for more details.",
    );
    const retireBody = await call('POST', `${device(id)}/retire`, { keepUserData: true });
    expect(retireBody.status).toBe(400);
    expect((await listed(MIXED)).every((d) => d.managementState === 'managed')).toBe(true);
  });

  it('delete removes the record: later reads 404 and the user no longer lists it', async () => {
    await listed(MIXED);
    const laptop = fixtureDeviceId(MIXED, 'laptop');
    expect((await call('DELETE', device(laptop))).status).toBe(204);
    const read = await call('GET', `${device(laptop)}?$select=id`);
    expect(read.status).toBe(404);
    expect(read.body.error?.code).toBe('ResourceNotFound');
    expect((await listed(MIXED)).map((d) => d.id)).not.toContain(laptop);
    expect((await call('DELETE', device(laptop))).status).toBe(404);
    expect((await call('POST', `${device(laptop)}/wipe`, {})).status).toBe(404);
  });

  it('answers 404 for an id it does not have, on every per-device endpoint', async () => {
    const id = '0f0f0f0f-0000-4000-8000-000000000000';
    expect((await call('POST', `${device(id)}/retire`)).status).toBe(404);
    expect((await call('POST', `${device(id)}/wipe`, {})).status).toBe(404);
    expect((await call('DELETE', device(id))).status).toBe(404);
    expect((await call('GET', device(id))).status).toBe(404);
    expect((await call('DELETE', `deviceManagement/windowsAutopilotDeviceIdentities/${id}`)).status).toBe(
      404,
    );
  });
});

describe('simulator Autopilot identities', () => {
  it('finds the laptop by serial, then: Intune delete clears managedDeviceId, deregistration removes it', async () => {
    await listed(MIXED);
    const laptop = fixtureDeviceId(MIXED, 'laptop');
    const serial = (await call('GET', `${device(laptop)}?$select=serialNumber`)).body.serialNumber as string;
    const filter = encodeURIComponent(`contains(serialNumber,'${serial}')`);
    const path = `deviceManagement/windowsAutopilotDeviceIdentities?$filter=${filter}&$select=id,serialNumber,managedDeviceId`;
    const found = await call('GET', path);
    expect(found.status).toBe(200);
    expect(found.body.value).toHaveLength(1);
    const identity = found.body.value?.[0] as Body;
    expect(identity).toEqual({ id: expect.any(String), serialNumber: serial, managedDeviceId: laptop });
    // Only the company Windows laptop has one.
    const phones = await call('GET', 'deviceManagement/windowsAutopilotDeviceIdentities');
    expect((phones.body.value ?? []).map((i) => i.serialNumber)).toEqual([serial]);

    expect((await call('DELETE', device(laptop))).status).toBe(204);
    const afterDelete = (await call('GET', path)).body.value ?? [];
    expect(afterDelete[0]?.managedDeviceId).toBe(NO_MANAGED_DEVICE);
    const identityPath = `deviceManagement/windowsAutopilotDeviceIdentities/${identity.id}`;
    expect((await call('DELETE', identityPath)).status).toBe(204);
    expect((await call('GET', path)).body.value).toEqual([]);
    expect((await call('DELETE', identityPath)).status).toBe(404);
  });

  it('deregisters even while the Intune record exists (Graph documents no refusal), and refuses unknown $select', async () => {
    await listed(MIXED);
    const [identity] =
      (await call('GET', 'deviceManagement/windowsAutopilotDeviceIdentities')).body.value ?? [];
    expect(identity?.managedDeviceId).toBe(fixtureDeviceId(MIXED, 'laptop'));
    expect(
      (await call('DELETE', `deviceManagement/windowsAutopilotDeviceIdentities/${identity?.id}`)).status,
    ).toBe(204);
    const bad = await call(
      'GET',
      'deviceManagement/windowsAutopilotDeviceIdentities?$select=id,hardwareHash',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toContain("Could not find a property named 'hardwareHash'");
  });

  it('takes explicit identities from the control', async () => {
    sim.control({
      autopilot: { implied: false, upsert: [{ serialNumber: 'PF3XK9Q1', managedDeviceId: null }] },
    });
    await listed(MIXED);
    const all = (await call('GET', 'deviceManagement/windowsAutopilotDeviceIdentities')).body.value ?? [];
    expect(all.map((i) => i.serialNumber)).toEqual(['PF3XK9Q1']);
    const eq = await call(
      'GET',
      `deviceManagement/windowsAutopilotDeviceIdentities?$filter=${encodeURIComponent("serialNumber eq 'PF3XK9Q1'")}`,
    );
    expect(eq.body.value).toHaveLength(1);
  });
});

describe('simulator Activation Lock bypass code', () => {
  it('is returned only by a device read that selects it; null otherwise and in lists', async () => {
    const user = 'leaver-supervised-cy@contoso.test';
    const listedDevices = await call(
      'GET',
      `users/${user}/managedDevices?$select=id,activationLockBypassCode,isSupervised`,
    );
    const [d] = listedDevices.body.value ?? [];
    expect(d).toMatchObject({ isSupervised: true, activationLockBypassCode: null });
    const id = fixtureDeviceId(user, 'supervised');
    const selected = await call('GET', `${device(id)}?$select=id,activationLockBypassCode`);
    expect(selected.body.activationLockBypassCode).toMatch(/^[0-9B-Z]{5}(-[0-9B-Z]{5}){4}$/);
    const unselected = await call('GET', device(id));
    expect(unselected.status).toBe(200);
    expect(unselected.body.activationLockBypassCode).toBeNull();
    expect(unselected.body.deviceActionResults).toEqual([]);
    // Denying the read permissions refuses the read.
    sim.control({ permissions: { deny: [PERMISSIONS.readDevices, PERMISSIONS.deleteDevices] } });
    try {
      expect((await call('GET', `${device(id)}?$select=id`)).status).toBe(403);
    } finally {
      sim.control({ permissions: { grant: [PERMISSIONS.readDevices, PERMISSIONS.deleteDevices] } });
    }
  });
});
