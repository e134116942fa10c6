// The per-device Intune writes of a device policy (issue 21) in the Graph fake:
//
//   POST   /v1.0/deviceManagement/managedDevices/{id}/retire            (no parameters; 204)
//   POST   /v1.0/deviceManagement/managedDevices/{id}/wipe              (v1.0 parameters only; 204)
//   DELETE /v1.0/deviceManagement/managedDevices/{id}                   (204)
//   DELETE /v1.0/deviceManagement/windowsAutopilotDeviceIdentities/{id} (204)
//
// Each is answered like the retire of all devices (server.ts, decide.ts): auth, the permission it
// needs, announced Retry-After windows, the outage and hang switches, the SAME per-app/tenant write
// limiter as the retire (Intune counts them in one write budget), scripted answers by device or
// identity id (control `script`); then the request is held to the v1.0 contract (a wipe parameter v1.0
// lacks, or of the wrong type, is refused as Graph refuses it: refusal.ts), an unknown id answers 404
// and Intune's platform rules refuse what the platform does not support (device-actions.ts). Every call
// is counted in `stats.graph` (the write counters the benchmark reads) and logged in `stats.calls`.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkRequest } from '../../graph/contract/check.js';
import { delay, readBody } from '../http.js';
import type { SimState } from '../state.js';
import { PERMISSIONS } from '../tokens.js';
import { decide } from './decide.js';
import { type DeviceActionKind, platformRefusal } from './device-actions.js';
import { deleteAutopilotIdentity, findDevice } from './device-actions-lookup.js';
import { refusal } from './refusal.js';
import { type ReplyIds, replyError, replySuccess } from './responses.js';
import type { SimRoute } from './route.js';

const DEVICE_ACTION = /^\/v1\.0\/deviceManagement\/managedDevices\/([^/()]+)\/(retire|wipe)\/?$/;
const DEVICE = /^\/v1\.0\/deviceManagement\/managedDevices\/([^/()]+)\/?$/;
const AUTOPILOT = /^\/v1\.0\/deviceManagement\/windowsAutopilotDeviceIdentities\/([^/()]+)\/?$/;

type Write =
  | { kind: DeviceActionKind; id: string }
  | { kind: 'delete'; id: string }
  | { kind: 'autopilot-delete'; id: string };

function parseWrite(method: string, path: string): Write | undefined {
  const id = (re: RegExp) => {
    const raw = re.exec(path)?.[1];
    if (raw === undefined) return undefined;
    try {
      return decodeURIComponent(raw).toLowerCase();
    } catch {
      return undefined;
    }
  };
  if (method === 'POST') {
    const m = DEVICE_ACTION.exec(path);
    const deviceId = id(DEVICE_ACTION);
    return m && deviceId ? { kind: m[2] as DeviceActionKind, id: deviceId } : undefined;
  }
  if (method !== 'DELETE') return undefined;
  const deviceId = id(DEVICE);
  if (deviceId) return { kind: 'delete', id: deviceId };
  const identityId = id(AUTOPILOT);
  return identityId ? { kind: 'autopilot-delete', id: identityId } : undefined;
}

const PERMISSION: Record<Write['kind'], string> = {
  retire: PERMISSIONS.retire,
  wipe: PERMISSIONS.retire,
  delete: PERMISSIONS.deleteDevices,
  'autopilot-delete': PERMISSIONS.autopilot,
};

export const deviceActionsRoute: SimRoute = {
  match: (method, path) => parseWrite(method, path) !== undefined,
  handle: handleWrite,
};

async function handleWrite(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const method = req.method ?? 'POST';
  const write = parseWrite(method, url.pathname) as Write;
  const ids: ReplyIds = { requestId: randomUUID(), clientRequestId: header(req, 'client-request-id') };
  const book = state.devices;
  const at = Date.now();
  // The write counters are per user (the benchmark's view); a device not shown yet counts under its id.
  const user =
    write.kind === 'autopilot-delete' ? `autopilot:${write.id}` : (book.ownerOf(write.id) ?? write.id);
  state.stats.graphArrived(user, at);
  const entry = state.stats.call(method, `${url.pathname}${url.search}`, true, at);
  let done = false;
  res.on('close', () => {
    if (done) return;
    done = true;
    const status = res.writableFinished ? res.statusCode : 0;
    entry.status = status;
    state.stats.graphFinished({ user, at, status, clientRequestId: ids.clientRequestId });
  });

  const decision = decide(state, write.id, header(req, 'authorization'), at, PERMISSION[write.kind]);
  const raw = await readBody(req, 64 * 1024).catch(() => '');
  const ok = decision.status >= 200 && decision.status < 300;
  const violation = ok ? contractViolation(method, url, raw) : undefined;
  if (violation) {
    await delay(state.latencyMs);
    return replyError(res, 400, ids, violation);
  }
  await delay(state.latencyMs + (decision.delayMs ?? 0));
  if (decision.announce) {
    const sentAt = Date.now();
    const a = decision.announce;
    state.windows.announce(sentAt, 'until' in a ? a.until : sentAt + a.ms);
  }
  if (decision.hang) return; // held open until the client or close() ends the socket
  if (!ok) {
    return replyError(res, decision.status, ids, {
      code: decision.code,
      message: decision.message,
      retryAfter: decision.retryAfter,
    });
  }
  const now = Date.now();
  if (write.kind === 'autopilot-delete') {
    if (!deleteAutopilotIdentity(book, write.id, now)) return notFound(res, ids, write.id);
    return replySuccess(res, 204, ids);
  }
  const found = findDevice(book, write.id, now);
  if (!found) return notFound(res, ids, write.id);
  if (write.kind === 'delete') {
    book.actions.remove(write.id, now);
    return replySuccess(res, 204, ids);
  }
  const refused = platformRefusal(write.kind, found.device);
  if (refused) return replyError(res, 400, ids, { code: 'BadRequest', message: refused });
  book.actions.record(write.id, write.kind, now);
  replySuccess(res, 204, ids);
}

/** The body and path against v1.0 (a wipe's parameters and their types; retire takes none). */
function contractViolation(
  method: string,
  url: URL,
  raw: string,
): { code: string; message: string } | undefined {
  let body: unknown;
  try {
    body = raw.trim() === '' ? undefined : JSON.parse(raw);
  } catch {
    return { code: 'BadRequest', message: 'The request body is not valid JSON.' };
  }
  const path = `${url.pathname.replace(/^\/v1\.0\//, '')}${url.search}`;
  const violation = checkRequest({ method, path, body })[0];
  return violation ? refusal(violation) : undefined;
}

/** Intune's 404 for an id it does not have (a device deleted, or never enrolled). */
function notFound(res: ServerResponse, ids: ReplyIds, id: string): void {
  replyError(res, 404, ids, {
    code: 'ResourceNotFound',
    message: `The resource '${id}' was not found.`,
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
