// The per-device reads of a device policy (issue 21) in the Graph fake:
//
//   GET /v1.0/deviceManagement/managedDevices/{id}[?$select=…]
//       one device with the state its actions gave it and `deviceActionResults`. Its
//       `activationLockBypassCode` is returned only when `$select` names it (Graph's managedDevice
//       docs: a non-default property, read by an individual GET that selects it); otherwise null.
//   GET /v1.0/deviceManagement/windowsAutopilotDeviceIdentities?$filter=contains(serialNumber,'X')[&$select=…]
//       the Autopilot identities whose serial number contains X (also `serialNumber eq 'X'`).
//
// Reads are answered like the users' device lists (devices-route.ts): auth, the read permission
// (DeviceManagementManagedDevices.Read.All or ReadWrite.All; DeviceManagementServiceConfig.ReadWrite.All
// for Autopilot), announced read windows, the outage switch, the READ limiter (apart from writes),
// scripted answers by id (control `readScript`), then the query held to the v1.0 contract.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkQuery } from '../../graph/contract/check.js';
import { delay, readBody, sendJson } from '../http.js';
import type { SimState } from '../state.js';
import { PERMISSIONS } from '../tokens.js';
import { autopilotIdentities, readDevice } from './device-actions-lookup.js';
import { refusal } from './refusal.js';
import { type ReplyIds, replyError, replyHeaders } from './responses.js';
import type { SimRoute } from './route.js';
import { formatRetryAfter } from './windows.js';

const DEVICE = /^\/v1\.0\/deviceManagement\/managedDevices\/([^/()]+)\/?$/;
const AUTOPILOT = /^\/v1\.0\/deviceManagement\/windowsAutopilotDeviceIdentities\/?$/;
const DEVICE_TYPE = 'microsoft.graph.managedDevice';
const AUTOPILOT_TYPE = 'microsoft.graph.windowsAutopilotDeviceIdentity';

export const deviceReadRoute: SimRoute = {
  match: (method, path) => method === 'GET' && (DEVICE.test(path) || AUTOPILOT.test(path)),
  handle: handleRead,
};

async function handleRead(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const ids: ReplyIds = { requestId: randomUUID(), clientRequestId: header(req, 'client-request-id') };
  await readBody(req, 64 * 1024).catch(() => '');
  const book = state.devices;
  const now = Date.now();
  const autopilot = AUTOPILOT.test(url.pathname);
  let deviceId = '';
  try {
    deviceId = autopilot ? '' : decodeURIComponent(DEVICE.exec(url.pathname)?.[1] ?? '').toLowerCase();
  } catch {
    deviceId = '';
  }
  const entry = state.stats.call('GET', `${url.pathname}${url.search}`, false, now);
  res.on('close', () => {
    entry.status = res.writableFinished ? res.statusCode : 0;
  });
  const gate = readGate(state, header(req, 'authorization'), autopilot, deviceId, now);
  const q = url.searchParams;
  const violation =
    gate.status === 200 ? checkQuery(autopilot ? AUTOPILOT_TYPE : DEVICE_TYPE, q)[0] : undefined;
  await delay(state.latencyMs + (gate.delayMs ?? 0));
  if (gate.announceMs !== undefined) book.windows.announce(Date.now(), Date.now() + gate.announceMs);
  const owner = autopilot ? 'autopilot' : (book.ownerOf(deviceId) ?? deviceId);
  if (violation) {
    book.counted(owner, 400);
    return replyError(res, 400, ids, refusal(violation));
  }
  if (gate.status !== 200) {
    book.counted(owner, gate.status);
    return replyError(res, gate.status, ids, gate.retryAfter ? { retryAfter: gate.retryAfter } : {});
  }
  const selectText = q.get('$select');
  const select = selectText === null ? null : selectText.split(',').map((f) => f.trim());
  if (autopilot) return answerAutopilot(state, res, ids, q, select);
  const found = readDevice(book, deviceId, Date.now());
  if (!found) {
    book.counted(owner, 404);
    return replyError(res, 404, ids, {
      code: 'ResourceNotFound',
      message: `The resource '${deviceId}' was not found.`,
    });
  }
  book.counted(found.user, 200);
  const d = found.device;
  const body = select
    ? Object.fromEntries(select.map((f) => [f, d[f] ?? null]))
    : { ...d, activationLockBypassCode: null };
  sendJson(
    res,
    200,
    {
      '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices${select ? `(${select.join(',')})` : ''}/$entity`,
      ...body,
    },
    replyHeaders(ids),
  );
}

function answerAutopilot(
  state: SimState,
  res: ServerResponse,
  ids: ReplyIds,
  q: URLSearchParams,
  select: string[] | null,
): void {
  const book = state.devices;
  const filter = q.get('$filter');
  let serial: string | undefined;
  let exact = false;
  if (filter !== null) {
    const contains = /^\s*contains\(\s*serialNumber\s*,\s*'((?:[^']|'')*)'\s*\)\s*$/.exec(filter);
    const eq = /^\s*serialNumber\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(filter);
    const m = contains ?? eq;
    if (!m) {
      book.counted('autopilot', 400);
      // A valid v1.0 filter perhaps, but this fake evaluates only these two: say so rather than ignore it.
      replyError(res, 400, ids, {
        code: 'BadRequest',
        message: "The simulator evaluates only contains(serialNumber,'…') and serialNumber eq '…' here.",
      });
      return;
    }
    serial = (m[1] as string).replaceAll("''", "'");
    exact = eq !== null;
  }
  const top = q.get('$top') === null ? 1000 : Number(q.get('$top'));
  if (!Number.isInteger(top) || top < 1 || top > 1000) {
    book.counted('autopilot', 400);
    replyError(res, 400, ids, { code: 'BadRequest', message: 'Invalid $top.' });
    return;
  }
  const found = autopilotIdentities(book, serial, Date.now()).filter(
    (i) => !exact || i.serialNumber.toLowerCase() === serial?.toLowerCase(),
  );
  book.counted('autopilot', 200);
  sendJson(
    res,
    200,
    {
      '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#deviceManagement/windowsAutopilotDeviceIdentities${select ? `(${select.join(',')})` : ''}`,
      value: found
        .slice(0, top)
        .map((i) => (select ? Object.fromEntries(select.map((f) => [f, i[f] ?? null])) : i)),
    },
    replyHeaders(ids),
  );
}

interface Gate {
  status: number;
  retryAfter?: string;
  delayMs?: number;
  announceMs?: number;
}

/** Auth, permission, announced read windows, outage, read throttling and scripted answers by id. */
function readGate(
  state: SimState,
  authorization: string | undefined,
  autopilot: boolean,
  id: string,
  now: number,
): Gate {
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!bearer) return { status: 401 };
  const check = state.tokens.check(bearer, state.tenantId, now);
  if (!check.ok) return { status: 401 };
  const roles = Array.isArray(check.claims.roles) ? (check.claims.roles as string[]) : null;
  const app = check.claims.idtyp === 'app';
  const holds = (p: string) => !state.deniedPermissions.has(p) && (!app || (roles ?? []).includes(p));
  const allowed = autopilot
    ? holds(PERMISSIONS.autopilot)
    : holds(PERMISSIONS.readDevices) || holds(PERMISSIONS.deleteDevices);
  if ((app && roles === null) || !allowed) return { status: 403 };
  const book = state.devices;
  const verdict = book.windows.classify(now, state.violationGraceMs);
  if (verdict.kind === 'violation') {
    book.violation();
    return { status: 429, retryAfter: formatRetryAfter(verdict.remainingMs, 'seconds', now).header };
  }
  if (state.outage) {
    const { status, retryAfter } = state.outage;
    return { status, ...(retryAfter ? { retryAfter } : {}) };
  }
  const wait = book.limiter.admit(String(check.claims.appid ?? ''), now, book.readLimit, null);
  if (wait > 0) {
    const { header: h, until } = formatRetryAfter(wait, book.readLimit?.retryAfter ?? 'seconds', now);
    return { status: 429, ...(h ? { retryAfter: h } : {}), ...(until ? { announceMs: until - now } : {}) };
  }
  const step = id ? book.nextScripted(id) : undefined;
  if (step === undefined) return { status: 200 };
  const s = typeof step === 'number' ? { status: step } : step;
  if (s.status >= 200 && s.status < 300) return { status: 200, delayMs: s.delayMs };
  const announceMs =
    s.status === 429 && s.retryAfter && /^\d+(\.\d+)?$/.test(s.retryAfter)
      ? Number(s.retryAfter) * 1000
      : undefined;
  return { status: s.status, retryAfter: s.retryAfter, delayMs: s.delayMs, announceMs };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
