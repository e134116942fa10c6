// The simulator refuses what real Graph v1.0 refuses (issue 18), over real loopback HTTP: a $select,
// $filter or $orderby naming a property the type lacks, an action body with a parameter the action
// does not take, an enum value that does not exist — each with Graph's status, code, message and
// error body shape. Its devices carry v1.0 names only, checked against the contract file.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enumMembers, propertiesOf } from '../../src/graph/contract/load.js';
import { defaultDevices } from '../../src/sim/graph/devices.js';
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
  sim.control({ readLimit: null, permissions: { grant: [PERMISSIONS.readDevices] } });
});

interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { 'request-id': string; date: string; 'client-request-id': string };
  };
}

async function call(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: GraphErrorBody & Record<string, unknown> }> {
  const res = await fetch(`${sim.graphBaseUrl}/${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      'client-request-id': 'c0ffee00-0000-4000-8000-000000000001',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** Graph's error envelope, with the ids support needs. */
function expectGraphError(body: GraphErrorBody, code: string, message: string): void {
  expect(body.error.code).toBe(code);
  expect(body.error.message).toBe(message);
  expect(body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(body.error.innerError.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  expect(body.error.innerError['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
}

const SELECT = 'id,deviceName,operatingSystem,managementState,managedDeviceOwnerType';

describe('simulator: managedDevices held to the v1.0 contract', () => {
  it('refuses a $select naming the beta name ownerType with Graph’s 400, and takes the v1.0 name', async () => {
    sim.control({ devices: { 'ann@contoso.com': 2 } });
    const bad = await call('users/ann%40contoso.com/managedDevices?$select=id,deviceName,ownerType');
    expect(bad.status).toBe(400);
    expectGraphError(
      bad.body,
      'BadRequest',
      "Parsing OData Select and Expand failed: Could not find a property named 'ownerType' on type 'microsoft.graph.managedDevice'.",
    );
    expect(bad.body.error.innerError['client-request-id']).toBe('c0ffee00-0000-4000-8000-000000000001');
    // Counted as a 400 read: the stats show what the product was told.
    expect(sim.stats().reads?.byStatus['400']).toBe(1);

    const ok = await call(`users/ann%40contoso.com/managedDevices?$select=${SELECT}`);
    expect(ok.status).toBe(200);
    const value = ok.body.value as Record<string, unknown>[];
    expect(value).toHaveLength(2);
    for (const d of value) {
      expect(Object.keys(d).sort()).toEqual(SELECT.split(',').sort());
      expect(['company', 'personal']).toContain(d.managedDeviceOwnerType);
    }
  });

  it('refuses $filter and $orderby on properties managedDevice lacks, and enum values that do not exist', async () => {
    const filter = await call(
      `users/ann%40contoso.com/managedDevices?$filter=${encodeURIComponent("ownerType eq 'company'")}`,
    );
    expect(filter.status).toBe(400);
    expectGraphError(
      filter.body,
      'BadRequest',
      "The query specified in the URI is not valid. Could not find a property named 'ownerType' on type 'microsoft.graph.managedDevice'.",
    );
    const order = await call('users/ann%40contoso.com/managedDevices?$orderby=ownerType%20desc');
    expect(order.status).toBe(400);
    expect(order.body.error.message).toContain("Could not find a property named 'ownerType'");
    const enumValue = await call(
      `users/ann%40contoso.com/managedDevices?$filter=${encodeURIComponent("managementState eq 'retiring'")}`,
    );
    expect(enumValue.status).toBe(400);
    expectGraphError(
      enumValue.body,
      'BadRequest',
      "Cannot convert the literal 'retiring' to the expected type 'microsoft.graph.managementState'.",
    );
    const option = await call('users/ann%40contoso.com/managedDevices?$expandAll=true');
    expect(option.status).toBe(400);
  });

  it('lists v1.0 devices without $select: every key a managedDevice property, every enum value a member', async () => {
    const props = propertiesOf('managedDevice') ?? {};
    sim.control({ devices: { 'bob@contoso.com': 6 } });
    const all = await call('users/bob%40contoso.com/managedDevices');
    expect(all.status).toBe(200);
    const devices = [
      ...(all.body.value as Record<string, unknown>[]),
      ...Array.from({ length: 40 }, (_, i) => defaultDevices(`user${i}@contoso.com`)).flat(),
    ];
    expect(devices.length).toBeGreaterThan(20);
    for (const d of devices) {
      for (const [key, value] of Object.entries(d)) {
        expect(props, key).toHaveProperty(key);
        const members = enumMembers(props[key] as string);
        if (members && value !== null) expect(members, `${key}=${value}`).toContain(value);
      }
      for (const v1 of [
        'managedDeviceOwnerType',
        'deviceEnrollmentType',
        'isSupervised',
        'managementState',
      ]) {
        expect(d).toHaveProperty(v1);
      }
    }
  });

  it('refuses a control device with a property v1.0 lacks or an enum value that does not exist', () => {
    expect(() => sim.control({ devices: { 'c@contoso.com': [{ ownerType: 'company' } as never] } })).toThrow(
      /ownerType/,
    );
    expect(() =>
      sim.control({ devices: { 'c@contoso.com': [{ managedDeviceOwnerType: 'corporate' } as never] } }),
    ).toThrow();
    sim.control({
      devices: { 'c@contoso.com': [{ managedDeviceOwnerType: 'personal', isSupervised: false }] },
    });
  });
});

describe('simulator: users held to the v1.0 contract', () => {
  const window = encodeURIComponent(
    'employeeLeaveDateTime ge 2026-12-01T00:00:00Z and employeeLeaveDateTime le 2026-12-31T00:00:00Z',
  );
  const eventual = { ConsistencyLevel: 'eventual' };

  it('refuses $select, $filter and $orderby naming what user lacks, in the directory’s words', async () => {
    const select = await call(`users?$filter=${window}&$count=true&$select=id,leaveDate`, {
      headers: eventual,
    });
    expect(select.status).toBe(400);
    expectGraphError(
      select.body,
      'BadRequest',
      "Parsing OData Select and Expand failed: Could not find a property named 'leaveDate' on type 'microsoft.graph.user'.",
    );
    const filter = await call(
      `users?$filter=${encodeURIComponent('leaveDate ge 2026-12-01T00:00:00Z')}&$count=true`,
      { headers: eventual },
    );
    expect(filter.status).toBe(400);
    expectGraphError(
      filter.body,
      'Request_UnsupportedQuery',
      "Property 'leaveDate' does not exist as a declared property or extension property.",
    );
    const order = await call('users?$orderby=leaveDate');
    expect(order.status).toBe(400);
    expect(order.body.error.message).toBe(
      "Property 'leaveDate' does not exist as a declared property or extension property.",
    );
    const direct = await call('users/ann%40contoso.com?$select=id,employeeLeaveDate');
    expect(direct.status).toBe(400);
    expect(direct.body.error.message).toContain("named 'employeeLeaveDate' on type 'microsoft.graph.user'");
  });

  it('answers a v1.0 property it does not keep as null, like an unset one', async () => {
    sim.control({ users: { upsert: [{ userPrincipalName: 'dee@contoso.com' }] } });
    const r = await call('users/dee%40contoso.com?$select=id,employeeLeaveDateTime,jobTitle');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ employeeLeaveDateTime: null, jobTitle: null });
  });
});

describe('simulator: actions held to their v1.0 parameters', () => {
  it('refuses a retire body with a parameter removeAllDevicesFromManagement does not take; nothing retires', async () => {
    sim.control({ devices: { 'eve@contoso.com': 1 } });
    const bad = await call('users/eve%40contoso.com/removeAllDevicesFromManagement', {
      method: 'POST',
      body: { keepUserData: true },
    });
    expect(bad.status).toBe(400);
    expectGraphError(
      bad.body,
      'BadRequest',
      "The parameter 'keepUserData' in the request payload is not a valid parameter for the operation 'removeAllDevicesFromManagement'.",
    );
    const view = (await (await fetch(`${sim.controlUrl}/devices?user=eve@contoso.com`)).json()) as {
      retiredAt: string | null;
    };
    expect(view.retiredAt).toBeNull();
    const empty = await call('users/eve%40contoso.com/removeAllDevicesFromManagement', { method: 'POST' });
    expect(empty.status).toBe(204);
  });

  it('refuses a resume body with an unknown parameter, an unknown data property or a status not in the enum', async () => {
    const path =
      'identityGovernance/lifecycleWorkflows/workflows/11111111-aaaa-4bbb-8ccc-000000000001/tasks/' +
      '22222222-aaaa-4bbb-8ccc-000000000002/taskProcessingResults/33333333-aaaa-4bbb-8ccc-000000000003/' +
      'microsoft.graph.identityGovernance.resume';
    const good = { data: { operationStatus: 'completed' }, source: 'offboard', type: 'lifecycleEvent' };
    const extra = await call(path, { method: 'POST', body: { ...good, outcome: 'retired' } });
    expect(extra.status).toBe(400);
    expectGraphError(
      extra.body,
      'BadRequest',
      "The parameter 'outcome' in the request payload is not a valid parameter for the operation 'resume'.",
    );
    const status = await call(path, { method: 'POST', body: { ...good, data: { operationStatus: 'done' } } });
    expect(status.status).toBe(400);
    expect(status.body.error.message).toBe(
      "Cannot convert the literal 'done' to the expected type 'microsoft.graph.identityGovernance.customTaskExtensionOperationStatus'.",
    );
    const prop = await call(path, {
      method: 'POST',
      body: { ...good, data: { operationStatus: 'completed', reason: 'x' } },
    });
    expect(prop.status).toBe(400);
    expect(sim.lifecycle()).toEqual([]);
    expect((await call(path, { method: 'POST', body: good })).status).toBe(204);
  });
});
