// GET /v1.0/users/{user}/managedDevices (also the users('…') form): auth, the read permission
// (DeviceManagementManagedDevices.Read.All), announced read Retry-After windows, outage, the read
// limiter, scripted read answers, unknown users (404); then the query held to Graph's v1.0 contract
// ($select, $filter, $orderby naming only managedDevice properties, refused as Graph refuses them:
// refusal.ts), $top and @odata.nextLink paging over what the DeviceBook (devices.ts) lists now. Also
// `/_sim/devices?user=` for tests.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkQuery } from '../../graph/contract/check.js';
import { delay, readBody, sendJson } from '../http.js';
import type { SimState } from '../state.js';
import { authenticate, bearerOf } from '../tenants/auth.js';
import type { SimTenant } from '../tenants/tenant.js';
import { PERMISSIONS } from '../tokens.js';
import { refusal } from './refusal.js';
import { type ReplyIds, replyError, replyHeaders } from './responses.js';
import type { SimRoute } from './route.js';
import { userFromPath, userPathPattern } from './user-path.js';
import { formatRetryAfter } from './windows.js';

const PATH = userPathPattern('managedDevices');
const TYPE = 'microsoft.graph.managedDevice';

/** The user of a managedDevices path (lower-cased), or undefined. */
export function parseDevicesPath(rawPath: string): string | undefined {
  return userFromPath(PATH, rawPath);
}

export const devicesRoute: SimRoute = {
  match: (method, path) => method === 'GET' && PATH.test(path),
  handle: handleDevices,
};

async function handleDevices(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const ids: ReplyIds = { requestId: randomUUID(), clientRequestId: header(req, 'client-request-id') };
  await readBody(req, 64 * 1024).catch(() => '');
  const user = parseDevicesPath(url.pathname);
  const book = state.devices;
  const now = Date.now();
  const answer = decideRead(state, user ?? '', header(req, 'authorization'), now);
  const q = url.searchParams;
  // Graph parses the query of an authorised request before reading anything: a property v1.0 lacks
  // refuses the whole read, whoever the user.
  const violation = answer.status === 200 ? checkQuery(TYPE, q)[0] : undefined;
  const status = violation ? 400 : answer.status;
  await delay(state.latencyMs + (answer.delayMs ?? 0));
  const windows = answer.tenant?.readWindows ?? book.windows;
  if (answer.announceMs !== undefined) windows.announce(Date.now(), Date.now() + answer.announceMs);
  book.counted(user ?? '', status);
  answer.tenant?.stats.read(status);
  if (user === undefined) return replyError(res, 400, ids, { code: 'BadRequest', message: 'Invalid user.' });
  if (violation) {
    const { code, message } = refusal(violation);
    return replyError(res, 400, ids, { code, message });
  }
  // The control's `refuseSelect`: refuse a v1.0 property as if it were unknown (a systemic-400 drill).
  const refused = (q.get('$select') ?? '').split(',').find((f) => book.refusedFields.has(f.trim()));
  if (refused && answer.status === 200) {
    return replyError(res, 400, ids, {
      code: 'BadRequest',
      message: `Parsing OData Select and Expand failed: Could not find a property named '${refused.trim()}' on type 'microsoft.graph.managedDevice'.`,
    });
  }
  if (answer.status !== 200) {
    return replyError(res, answer.status, ids, {
      ...(answer.code ? { code: answer.code } : {}),
      ...(answer.retryAfter ? { retryAfter: answer.retryAfter } : {}),
    });
  }
  const selectText = q.get('$select');
  const select = selectText === null ? null : selectText.split(',').map((f) => f.trim());
  const top = q.get('$top') === null ? book.pageSize : Number(q.get('$top'));
  const offset = Number(q.get('$skiptoken') ?? '0');
  if (!Number.isInteger(top) || top < 1 || top > 999 || !Number.isInteger(offset) || offset < 0) {
    return replyError(res, 400, ids, { code: 'BadRequest', message: 'Invalid $top or $skiptoken.' });
  }
  if (q.has('$filter') || q.has('$orderby')) {
    // Valid v1.0 properties, but this fake does not evaluate them: say so rather than ignore them.
    return replyError(res, 400, ids, {
      code: 'BadRequest',
      message: 'The simulator does not evaluate $filter or $orderby on managedDevices.',
    });
  }
  const all = book.list(user, Date.now());
  const page = all.slice(offset, offset + top);
  const body: Record<string, unknown> = {
    '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${user}')/managedDevices${select ? `(${select.join(',')})` : ''}`,
  };
  if (offset + top < all.length) {
    // Graph keeps the `$` of system query options literal in its nextLinks.
    const next = new URLSearchParams(url.searchParams);
    next.set('$skiptoken', String(offset + top));
    const query = [...next].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    body['@odata.nextLink'] = `http://${header(req, 'host') ?? '127.0.0.1'}${url.pathname}?${query}`;
  }
  // Without $select Graph lists every property it has for the device.
  body.value = page.map((d) => (select ? Object.fromEntries(select.map((f) => [f, d[f] ?? null])) : d));
  sendJson(res, 200, body, replyHeaders(ids));
}

interface ReadAnswer {
  status: number;
  code?: string;
  retryAfter?: string;
  delayMs?: number;
  /** A read Retry-After window opens when the answer is sent. */
  announceMs?: number;
  /** The tenant of the token (absent when it was refused). */
  tenant?: SimTenant;
}

/** Auth, permission, announced read windows, outage, read throttling, scripted answers, unknown users. */
function decideRead(
  state: SimState,
  user: string,
  authorization: string | undefined,
  now: number,
): ReadAnswer {
  const bearer = bearerOf(authorization);
  if (!bearer) return { status: 401 };
  const auth = authenticate(state, bearer, now);
  if (!auth.ok) return { status: 401 };
  return { ...readForTenant(state, auth.tenant, auth.claims, user, now), tenant: auth.tenant };
}

function readForTenant(
  state: SimState,
  tenant: SimTenant,
  claims: Record<string, unknown>,
  user: string,
  now: number,
): ReadAnswer {
  const noRoles = claims.idtyp === 'app' && !Array.isArray(claims.roles);
  if (noRoles || state.deniedPermissions.has(PERMISSIONS.readDevices) || tenant.consent === 'revoked')
    return { status: 403 };
  const book = state.devices;
  const verdict = tenant.readWindows.classify(now, state.violationGraceMs);
  if (verdict.kind === 'violation') {
    book.violation();
    tenant.stats.readViolation();
    return { status: 429, retryAfter: formatRetryAfter(verdict.remainingMs, 'seconds', now).header };
  }
  if (state.outage) {
    const { status, retryAfter } = state.outage;
    return { status, ...(retryAfter ? { retryAfter } : {}) };
  }
  const readLimit = tenant.readLimit;
  const wait = tenant.readLimiter.admit(String(claims.appid ?? ''), now, readLimit, null);
  if (wait > 0) {
    const { header: h, until } = formatRetryAfter(wait, readLimit?.retryAfter ?? 'seconds', now);
    return { status: 429, ...(h ? { retryAfter: h } : {}), ...(until ? { announceMs: until - now } : {}) };
  }
  const step = book.nextScripted(user);
  if (step !== undefined) {
    const s = typeof step === 'number' ? { status: step } : step;
    if (s.status >= 200 && s.status < 300) return { status: 200, delayMs: s.delayMs };
    const announceMs =
      s.status === 429 && s.retryAfter && /^\d+(\.\d+)?$/.test(s.retryAfter)
        ? Number(s.retryAfter) * 1000
        : undefined;
    return { status: s.status, retryAfter: s.retryAfter, delayMs: s.delayMs, announceMs };
  }
  const local = user.includes('@') ? user.slice(0, user.lastIndexOf('@')) : '';
  if (local.startsWith('notfound-')) return { status: 404 };
  return { status: 200 };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `/_sim/devices?user=…`: the devices as a read would list them now (no auth, no throttling, not counted). */
export function devicesView(state: SimState, res: ServerResponse, url: URL): void {
  const user = url.searchParams.get('user');
  if (user) sendJson(res, 200, state.devices.view(user));
  else sendJson(res, 200, { reads: state.devices.stats(), retireDelayMs: state.devices.retireDelayMs });
}
