// Every request offboard sends to Microsoft Graph, built here as plain data (method, path below
// GRAPH_BASE_URL, body, headers) by pure functions the callers use. One place, so the contract test
// (test/graph/contract.test.ts) can build each of them exactly as the product does and hold it to
// Microsoft's v1.0 metadata (src/graph/contract): a request built anywhere else escapes that check.
// A leaf module: url.ts (the retire URL) and devices.ts (the inventory's $select) build on it.

export interface GraphRequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Below GRAPH_BASE_URL, query string included (no leading slash, except a resume's callbackUriPath). */
  path: string;
  /** The JSON body, when the request has one. */
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * `users/{user}`, or the key form `users('…')` for a UPN starting with `$` (Graph would read
 * `users/$x` as an OData segment such as `$count`), a single quote escaped by doubling it.
 */
export function userSegment(user: string): string {
  const encoded = encodeURIComponent(user);
  return user.startsWith('$') ? `users('${encoded.replaceAll("'", "''")}')` : `users/${encoded}`;
}

/** The retire: `POST users/{user}/removeAllDevicesFromManagement`, no body (the action has no parameters). */
export function retireRequest(user: string): GraphRequestSpec {
  return { method: 'POST', path: `${userSegment(user)}/removeAllDevicesFromManagement` };
}

/**
 * A user's managed devices with the given `$select`: the inventory before the action and each
 * verification read after it (devices.ts passes DEVICE_FIELDS).
 */
export function managedDevicesRequest(user: string, select: readonly string[]): GraphRequestSpec {
  return { method: 'GET', path: `${userSegment(user)}/managedDevices?$select=${select.join(',')}` };
}

/** What the Entra sweep reads of each leaver. */
export const USER_FIELDS = 'id,userPrincipalName,employeeLeaveDateTime,accountEnabled';

const literal = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The Entra sweep's window read: `users?$filter=…&$select=…&$count=true&$top=…`. The leave date is in
 * the advanced-query index only, so it needs `$count=true` and `ConsistencyLevel: eventual`.
 */
export function leaversPath(w: { fromMs: number; toMs: number }, pageSize = 999): string {
  const filter = `employeeLeaveDateTime ge ${literal(w.fromMs)} and employeeLeaveDateTime le ${literal(w.toMs)}`;
  return `users?$filter=${encodeURIComponent(filter)}&$select=${USER_FIELDS}&$count=true&$top=${pageSize}`;
}

export function leaversRequest(w: { fromMs: number; toMs: number }, pageSize = 999): GraphRequestSpec {
  return { method: 'GET', path: leaversPath(w, pageSize), headers: { ConsistencyLevel: 'eventual' } };
}

/** Any one user of the directory (`users?$select=id,userPrincipalName&$top=1`): preflight's inventory target. */
export function anyUserPath(): string {
  return 'users?$select=id,userPrincipalName&$top=1';
}

/** One user's leave date read directly (strongly consistent): `users/{id}?$select=id,employeeLeaveDateTime`. */
export function leaveDatePath(id: string): string {
  return `users/${encodeURIComponent(id)}?$select=id,employeeLeaveDateTime`;
}

export function leaveDateRequest(id: string): GraphRequestSpec {
  return { method: 'GET', path: leaveDatePath(id) };
}

/** The body of a Lifecycle Workflows resume (customTaskExtensionCallbackData), as sent. */
export function resumeBody(status: 'completed' | 'failed', note?: string): string {
  return JSON.stringify({
    data: {
      '@odata.type': 'microsoft.graph.identityGovernance.customTaskExtensionCallbackData',
      operationStatus: status,
    },
    // The action has no message parameter (v1.0: source, type, data): a note such as "dry run: nothing
    // was retired" travels in `source`, the caller's description Lifecycle Workflows keeps with the result.
    source: note ? `offboard: ${note}` : 'offboard',
    type: 'lifecycleEvent',
  });
}

/**
 * `POST {callbackUriPath}` (checked by src/values/callback-path.ts: `/identityGovernance/
 * lifecycleWorkflows/workflows/{id}/tasks/{id}/taskProcessingResults/{id}/microsoft.graph.identityGovernance.resume`).
 */
export function resumeRequest(
  callbackUriPath: string,
  status: 'completed' | 'failed',
  note?: string,
): GraphRequestSpec {
  return { method: 'POST', path: callbackUriPath, body: JSON.parse(resumeBody(status, note)) };
}

// Per-device actions (DEVICE_POLICY_FILE). Device and identity ids are Graph's GUIDs; encoded anyway.
const deviceSegment = (id: string) => `deviceManagement/managedDevices/${encodeURIComponent(id)}`;

/** `POST deviceManagement/managedDevices/{id}/retire` (no parameters; 204). */
export function deviceRetireRequest(deviceId: string): GraphRequestSpec {
  return { method: 'POST', path: `${deviceSegment(deviceId)}/retire` };
}

/** `POST deviceManagement/managedDevices/{id}/wipe` with only the parameters the rule set (204). */
export function deviceWipeRequest(
  deviceId: string,
  opts: {
    keepEnrollmentData?: boolean;
    keepUserData?: boolean;
    macOsUnlockCode?: string;
    persistEsimDataPlan?: boolean;
  } = {},
): GraphRequestSpec {
  const body: Record<string, unknown> = {};
  for (const k of ['keepEnrollmentData', 'keepUserData', 'macOsUnlockCode', 'persistEsimDataPlan'] as const) {
    if (opts[k] !== undefined) body[k] = opts[k];
  }
  return { method: 'POST', path: `${deviceSegment(deviceId)}/wipe`, body };
}

/** `DELETE deviceManagement/managedDevices/{id}`: the Intune record (204). */
export function deviceDeleteRequest(deviceId: string): GraphRequestSpec {
  return { method: 'DELETE', path: deviceSegment(deviceId) };
}

/** One device read: `GET deviceManagement/managedDevices/{id}?$select=…` (verification, action results). */
export function deviceReadRequest(deviceId: string, select: readonly string[]): GraphRequestSpec {
  return { method: 'GET', path: `${deviceSegment(deviceId)}?$select=${select.join(',')}` };
}

/**
 * The Activation Lock bypass code of a supervised Apple device: returned only when selected by name,
 * so it is read alone, right before the wipe.
 */
export function activationLockBypassRequest(deviceId: string): GraphRequestSpec {
  return deviceReadRequest(deviceId, ['id', 'activationLockBypassCode']);
}

/** Autopilot identities with this serial number (the device is found by serial, not by Intune id). */
export function autopilotBySerialRequest(serialNumber: string): GraphRequestSpec {
  const filter = `contains(serialNumber,'${serialNumber.replaceAll("'", "''")}')`;
  return {
    method: 'GET',
    path: `deviceManagement/windowsAutopilotDeviceIdentities?$filter=${encodeURIComponent(filter)}&$select=id,serialNumber,managedDeviceId`,
  };
}

/** `DELETE deviceManagement/windowsAutopilotDeviceIdentities/{id}`: the Autopilot registration (204). */
export function autopilotDeleteRequest(identityId: string): GraphRequestSpec {
  return {
    method: 'DELETE',
    path: `deviceManagement/windowsAutopilotDeviceIdentities/${encodeURIComponent(identityId)}`,
  };
}
