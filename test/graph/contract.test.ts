// The contract test (issue 18): every request offboard sends to Graph, built by the product's own
// builders, checked segment by segment, property by property and parameter by parameter against
// Microsoft's v1.0 metadata (src/graph/contract). A property or parameter v1.0 does not have — such
// as the beta name `ownerType` in the inventory's $select — fails here, before it reaches a tenant.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ContractRequest, checkRequest } from '../../src/graph/contract/check.js';
import { graphContract, propertiesOf } from '../../src/graph/contract/load.js';
import { DEVICE_FIELDS, managedDevicesPath } from '../../src/graph/devices.js';
import {
  activationLockBypassRequest,
  anyUserPath,
  autopilotBySerialRequest,
  autopilotDeleteRequest,
  deviceDeleteRequest,
  deviceReadRequest,
  deviceRetireRequest,
  deviceWipeRequest,
  type GraphRequestSpec,
  leaveDatePath,
  leaversRequest,
  resumeRequest,
  retireRequest,
} from '../../src/graph/requests.js';
import { graphUrl, userActionPath } from '../../src/graph/url.js';
import { resumeBody } from '../../src/notify/deliver-resume.js';
import { leaversPath, leaveWindow } from '../../src/schedule/entra-source.js';
import { isCallbackPath } from '../../src/values/callback-path.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const BASE = 'https://graph.microsoft.com/v1.0';
/** The user forms the product sends: object id, UPN, and a UPN Graph would read as a `$` segment. */
const USERS = ['5f0e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b', 'ann.lee@contoso.com', "$o'brien@contoso.com"];
const CALLBACK =
  '/identityGovernance/lifecycleWorkflows/workflows/0a1b2c3d-0000-4000-8000-000000000001/tasks/' +
  '0a1b2c3d-0000-4000-8000-000000000002/taskProcessingResults/0a1b2c3d-0000-4000-8000-000000000003/' +
  'microsoft.graph.identityGovernance.resume';

/** Every request the product sends, as its builders make them, named for the failure message. */
function productRequests(): [string, ContractRequest][] {
  const out: [string, ContractRequest][] = [];
  for (const user of USERS) {
    // The retire exactly as the worker's call sends it (attempt.ts → url.ts → requests.ts, joined by call.ts).
    const url = graphUrl(BASE, userActionPath(user));
    if (!url.startsWith(`${BASE}/`)) throw new Error(`retire URL not below GRAPH_BASE_URL: ${url}`);
    out.push([`retire ${user}`, { method: 'POST', path: url.slice(BASE.length + 1) }]);
    const spec = retireRequest(user);
    out.push([`retire spec ${user}`, { method: spec.method, path: spec.path, body: spec.body }]);
    // The inventory before the action and every verification read after it (listManagedDevices).
    out.push([`inventory/verification ${user}`, { method: 'GET', path: managedDevicesPath(user) }]);
  }
  // preflight's directory read when no --user is given.
  out.push(['preflight any user', { method: 'GET', path: anyUserPath() }]);
  const now = Date.parse('2026-12-01T09:30:00Z');
  for (const w of [leaveWindow(null, now, 86_400_000), leaveWindow(now - 3_600_000, now, 0)]) {
    out.push([`Entra sweep ${w.fromMs}`, { method: 'GET', path: leaversPath(w) }]);
    out.push([`Entra sweep page size 1`, { method: 'GET', path: leaversPath(w, 1) }]);
    const spec = leaversRequest(w);
    out.push(['Entra sweep spec', { method: spec.method, path: spec.path }]);
  }
  out.push(['Entra direct read', { method: 'GET', path: leaveDatePath(USERS[0] as string) }]);
  if (!isCallbackPath(CALLBACK)) throw new Error('the example callbackUriPath is not one intake accepts');
  for (const status of ['completed', 'failed'] as const) {
    // The body deliver-resume.ts sends, and the builder's spec of the same request.
    out.push([`resume ${status}`, { method: 'POST', path: CALLBACK, body: JSON.parse(resumeBody(status)) }]);
    const spec = resumeRequest(CALLBACK, status);
    out.push([`resume spec ${status}`, { method: spec.method, path: spec.path, body: spec.body }]);
  }
  out.push(...deviceActionRequests());
  return out;
}

const DEVICE_ID = '9b1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d';
const IDENTITY_ID = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

/** The per-device requests of a device policy (issue 21), as the builders make them. */
function deviceActionRequests(): [string, ContractRequest][] {
  const specs: [string, GraphRequestSpec][] = [
    ['device retire', deviceRetireRequest(DEVICE_ID)],
    ['device wipe, no parameters', deviceWipeRequest(DEVICE_ID)],
    [
      'device wipe, every v1.0 parameter',
      deviceWipeRequest(DEVICE_ID, {
        keepEnrollmentData: true,
        keepUserData: false,
        macOsUnlockCode: '123456',
        persistEsimDataPlan: true,
      }),
    ],
    ['device delete (Intune record)', deviceDeleteRequest(DEVICE_ID)],
    ['device read, inventory fields', deviceReadRequest(DEVICE_ID, DEVICE_FIELDS)],
    [
      'device read, action results',
      deviceReadRequest(DEVICE_ID, ['id', 'managementState', 'deviceActionResults']),
    ],
    ['Activation Lock bypass code read', activationLockBypassRequest(DEVICE_ID)],
    ['Autopilot identity by serial', autopilotBySerialRequest('PF3XK9Q1')],
    ['Autopilot identity by a serial with a quote', autopilotBySerialRequest("5CG'12")],
    ['Autopilot deregistration', autopilotDeleteRequest(IDENTITY_ID)],
  ];
  return specs.map(([name, spec]) => [name, { method: spec.method, path: spec.path, body: spec.body }]);
}

describe('the Graph v1.0 contract file', () => {
  it('comes from Microsoft’s published metadata at one commit, with the types offboard uses', () => {
    const c = graphContract();
    expect(c.source).toMatch(/^microsoftgraph\/msgraph-metadata clean_v10_metadata\/cleanMetadata\.xml/);
    expect(c.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(readFileSync(join(SRC, 'graph/contract/README.md'), 'utf8')).toContain(c.commit);
    const device = propertiesOf('managedDevice') ?? {};
    expect(device).toHaveProperty('managedDeviceOwnerType', 'microsoft.graph.managedDeviceOwnerType');
    expect(device).not.toHaveProperty('ownerType');
    expect(device).toHaveProperty('id');
    expect(propertiesOf('user')).toHaveProperty('employeeLeaveDateTime', 'Edm.DateTimeOffset');
  });
});

describe('the contract at run time', () => {
  it('is copied by `npm run build` next to its loader, and the image build checks it', () => {
    // test/global-setup.ts ran `npm run build`: dist/ is what the image gets.
    for (const file of ['v1.0-subset.json', 'v1.0-paths.json']) {
      const built = resolve(SRC, '../dist/graph/contract', file);
      expect(existsSync(built), built).toBe(true);
      expect(readFileSync(built, 'utf8')).toBe(readFileSync(join(SRC, 'graph/contract', file), 'utf8'));
    }
    const dockerfile = readFileSync(resolve(SRC, '../Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/npm run build && ls [^\n]*dist\/graph\/contract\/v1\.0-subset\.json/);
  });
});

describe('every request offboard sends is valid Graph v1.0', () => {
  it.each(productRequests())('%s', (_name, req) => {
    expect(checkRequest(req).map((v) => v.message)).toEqual([]);
  });

  it('builds the per-device requests with the methods and shapes Microsoft documents', () => {
    // Intune API reference (v1.0): retire/wipe are POST actions answered 204, delete and Autopilot
    // deregistration are DELETEs of one entity, the Autopilot identity is found by serial number.
    expect(deviceRetireRequest(DEVICE_ID)).toEqual({
      method: 'POST',
      path: `deviceManagement/managedDevices/${DEVICE_ID}/retire`,
    });
    expect(deviceWipeRequest(DEVICE_ID, { keepUserData: true })).toEqual({
      method: 'POST',
      path: `deviceManagement/managedDevices/${DEVICE_ID}/wipe`,
      body: { keepUserData: true },
    });
    expect(deviceDeleteRequest(DEVICE_ID)).toEqual({
      method: 'DELETE',
      path: `deviceManagement/managedDevices/${DEVICE_ID}`,
    });
    expect(activationLockBypassRequest(DEVICE_ID).path).toBe(
      `deviceManagement/managedDevices/${DEVICE_ID}?$select=id,activationLockBypassCode`,
    );
    const lookup = new URLSearchParams(autopilotBySerialRequest("5CG'12").path.split('?')[1]);
    expect(lookup.get('$filter')).toBe("contains(serialNumber,'5CG''12')");
    expect(lookup.get('$select')?.split(',')).toContain('managedDeviceId');
    expect(autopilotDeleteRequest(IDENTITY_ID)).toEqual({
      method: 'DELETE',
      path: `deviceManagement/windowsAutopilotDeviceIdentities/${IDENTITY_ID}`,
    });
  });

  it('the inventory selects only managedDevice properties, by their v1.0 names', () => {
    const device = propertiesOf('managedDevice') ?? {};
    const missing = DEVICE_FIELDS.filter((f) => !(f in device));
    expect(missing, 'DEVICE_FIELDS names properties v1.0 managedDevice lacks').toEqual([]);
    expect(DEVICE_FIELDS).toContain('managedDeviceOwnerType');
  });
});

describe('the check fails what v1.0 refuses', () => {
  it.each<[string, ContractRequest, string]>([
    [
      'a beta property in $select',
      { method: 'GET', path: 'users/a%40contoso.com/managedDevices?$select=id,ownerType' },
      "$select 'ownerType' is not a property of microsoft.graph.managedDevice in v1.0",
    ],
    [
      'an unknown property in $filter',
      { method: 'GET', path: `users?$filter=${encodeURIComponent('leaveDate ge 2026-12-01T00:00:00Z')}` },
      "$filter 'leaveDate' is not a property of microsoft.graph.user in v1.0",
    ],
    [
      'an unknown property in $orderby',
      { method: 'GET', path: 'users/a/managedDevices?$orderby=ownerType desc' },
      "$orderby 'ownerType' is not a property of microsoft.graph.managedDevice in v1.0",
    ],
    [
      'an enum value that does not exist',
      {
        method: 'GET',
        path: `users/a/managedDevices?$filter=${encodeURIComponent("managementState eq 'gone'")}`,
      },
      "'gone' is not a member of microsoft.graph.managementState ($filter managementState)",
    ],
    [
      'a parameter the retire does not take',
      { method: 'POST', path: 'users/a/removeAllDevicesFromManagement', body: { keepUserData: true } },
      "removeAllDevicesFromManagement takes no parameter 'keepUserData' in v1.0",
    ],
    [
      'a resume status outside the enum',
      {
        method: 'POST',
        path: CALLBACK,
        body: { data: { operationStatus: 'retired' }, source: 'x', type: 'y' },
      },
      "'retired' is not a member of microsoft.graph.identityGovernance.customTaskExtensionOperationStatus (resume.data.operationStatus)",
    ],
    [
      'a navigation segment the type lacks',
      { method: 'GET', path: 'users/a/devices' },
      "segment 'devices' is not a navigation property or bound action of microsoft.graph.user in v1.0",
    ],
    [
      'a wipe parameter of the wrong type',
      { method: 'POST', path: 'deviceManagement/managedDevices/x/wipe', body: { keepUserData: 'yes' } },
      'wipe.keepUserData must be Edm.Boolean in v1.0, not "yes"',
    ],
    [
      'a wipe parameter v1.0 lacks',
      { method: 'POST', path: 'deviceManagement/managedDevices/x/wipe', body: { useProtectedWipe: true } },
      "wipe takes no parameter 'useProtectedWipe' in v1.0",
    ],
    [
      'a DELETE of a whole collection',
      { method: 'DELETE', path: 'deviceManagement/managedDevices' },
      'DELETE needs one microsoft.graph.managedDevice addressed by its key',
    ],
    [
      'a DELETE of a singleton',
      { method: 'DELETE', path: 'deviceManagement' },
      'DELETE needs one microsoft.graph.deviceManagement addressed by its key',
    ],
    [
      'a DELETE with a query option',
      { method: 'DELETE', path: 'deviceManagement/managedDevices/x?$select=id' },
      "a DELETE takes no query option ('$select')",
    ],
    [
      'an Autopilot filter on a property v1.0 lacks',
      {
        method: 'GET',
        path: `deviceManagement/windowsAutopilotDeviceIdentities?$filter=${encodeURIComponent("contains(hardwareHash,'x')")}`,
      },
      "$filter 'hardwareHash' is not a property of microsoft.graph.windowsAutopilotDeviceIdentity in v1.0",
    ],
    [
      'a POST to a device (not an action)',
      { method: 'POST', path: 'deviceManagement/managedDevices/x' },
      'POST on microsoft.graph.managedDevice: offboard only reads or deletes it',
    ],
    [
      'a GET on an action',
      { method: 'GET', path: 'users/a/removeAllDevicesFromManagement' },
      'removeAllDevicesFromManagement is an action: POST only',
    ],
  ])('%s', (_name, req, message) => {
    expect(checkRequest(req).map((v) => v.message)).toContain(message);
  });
});

// A Graph path written inline elsewhere would escape this test: requests are built in src/graph.
const BUILDERS = new Set([
  'graph/requests.ts',
  'graph/devices.ts',
  'graph/url.ts',
  'graph/read.ts',
  'graph/contract/check.ts',
  'values/callback-path.ts',
  'api/schemas/offboarding.ts',
]);
const GRAPH_PATH =
  /[`'"/](?:users[/?(]|managedDevices|deviceManagement\/|identityGovernance\/|\$select=|\$filter=)/;

describe('no Graph request is built outside src/graph', () => {
  it('finds Graph paths only in the builders (and the simulator, which answers them)', () => {
    const offenders: string[] = [];
    for (const file of readdirSync(SRC, { recursive: true, encoding: 'utf8' })) {
      const rel = relative(SRC, join(SRC, file)).split('\\').join('/');
      if (!rel.endsWith('.ts') || rel.startsWith('sim/') || BUILDERS.has(rel)) continue;
      readFileSync(join(SRC, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
          if (GRAPH_PATH.test(line)) offenders.push(`src/${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders, 'build Graph requests in src/graph/requests.ts so this test checks them').toEqual([]);
  });
});
