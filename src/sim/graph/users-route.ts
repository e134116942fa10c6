// GET /v1.0/users (the leave-date query) and GET /v1.0/users/{id} in the Graph fake: Graph's
// gateway answers (401/403), the advanced-query rules, $filter/$select/paging over the directory
// (users.ts), which stays free of the simulator state so state.ts can hold it without a file circle.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { delay, readBody, sendJson } from '../http.js';
import type { SimState } from '../state.js';
import { authenticate, bearerOf } from '../tenants/auth.js';
import type { SimTenant } from '../tenants/tenant.js';
import { PERMISSIONS } from '../tokens.js';
import { type ReplyIds, replyError, replyHeaders } from './responses.js';
import type { SimRoute } from './route.js';
import type { SimUser } from './users.js';
import {
  checkUserQuery,
  FILTERABLE,
  KNOWN_OPTIONS,
  matchesLeave,
  parseLeaveFilter,
  parseSelect,
  parseSkipToken,
  parseTop,
  QueryError,
} from './users-query.js';

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * 401/403 the way Graph's gateway and directory answer them, or the caller's tenant (its token's `tid`)
 * whose directory it may read.
 */
function authProblem(state: SimState, req: IncomingMessage, touchesLeave: boolean): QueryError | SimTenant {
  const bearer = bearerOf(header(req, 'authorization'));
  if (!bearer) return new QueryError('InvalidAuthenticationToken', 'Access token is empty.', 401);
  const check = authenticate(state, bearer);
  if (!check.ok) return new QueryError('InvalidAuthenticationToken', check.message, 401);
  const noRoles = check.claims.idtyp === 'app' && !Array.isArray(check.claims.roles);
  if (
    noRoles ||
    check.tenant.consent === 'revoked' ||
    state.deniedPermissions.has(PERMISSIONS.readUsers) ||
    (touchesLeave && state.deniedPermissions.has(PERMISSIONS.readLifecycleInfo))
  ) {
    return new QueryError(
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
      403,
    );
  }
  return check.tenant;
}

export async function handleUsers(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const ids: ReplyIds = { requestId: randomUUID(), clientRequestId: header(req, 'client-request-id') };
  await readBody(req, 64 * 1024).catch(() => '');
  await delay(state.latencyMs);
  const q = url.searchParams;
  const filterText = q.get('$filter');
  const selectText = q.get('$select');
  const touchesLeave = (filterText ?? '').includes(FILTERABLE) || (selectText ?? '').includes(FILTERABLE);
  let directory = state.directory;
  const fail = (e: QueryError, extra: Record<string, string> = {}) => {
    directory.reads.failed++;
    replyError(res, e.status, ids, { code: e.code, message: e.message, ...extra });
  };
  const auth = authProblem(state, req, touchesLeave);
  if (auth instanceof QueryError) return fail(auth);
  directory = auth.directory;
  if (state.outage) {
    const { status, retryAfter } = state.outage;
    return fail(new QueryError('', '', status), retryAfter ? { retryAfter } : {});
  }
  let page: SimUser[];
  let total: number;
  let select: string[];
  let offset: number;
  let top: number;
  const count = q.get('$count');
  try {
    checkUserQuery(q);
    for (const key of q.keys()) {
      if (key.startsWith('$') && !KNOWN_OPTIONS.has(key)) {
        throw new QueryError('Request_BadRequest', `Query option '${key}' is not supported.`);
      }
    }
    if (count !== null && count !== 'true' && count !== 'false') {
      throw new QueryError('Request_BadRequest', `Invalid value '${count}' for $count.`);
    }
    const eventual = (header(req, 'consistencylevel') ?? '').toLowerCase() === 'eventual';
    if (count === 'true' && !eventual) {
      throw new QueryError('Request_BadRequest', '$count is not currently supported.');
    }
    const clauses = filterText === null ? null : parseLeaveFilter(filterText);
    // The leave date lives in the advanced-query index only: both advanced query parameters needed.
    if (clauses && !(eventual && count === 'true')) {
      throw new QueryError(
        'Request_UnsupportedQuery',
        `Unsupported or invalid query filter clause specified for property '${FILTERABLE}' of resource 'User'.`,
      );
    }
    select = parseSelect(selectText);
    top = parseTop(q.get('$top'));
    offset = parseSkipToken(q.get('$skiptoken'));
    const matching = directory.all().filter((u) => (clauses ? matchesLeave(u, clauses) : true));
    total = matching.length;
    page = matching.slice(offset, offset + top);
  } catch (err) {
    if (err instanceof QueryError) return fail(err);
    throw err;
  }
  const pageNumber = Math.floor(offset / top) + 1;
  if (directory.failPage !== null && pageNumber === directory.failPage) {
    return fail(new QueryError('ServiceUnavailable', 'The service is temporarily unavailable.', 503));
  }
  const body: Record<string, unknown> = {
    '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users(${select.join(',')})`,
  };
  if (count === 'true') body['@odata.count'] = total;
  if (offset + top < total) body['@odata.nextLink'] = nextLink(req, url, offset + top);
  body.value = page.map((u) => pick(u, select));
  directory.reads.ok++;
  sendJson(res, 200, body, replyHeaders(ids));
}

/** The selected properties; a v1.0 property this directory does not keep reads as null, as unset ones do. */
function pick(u: SimUser, select: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(select.map((f) => [f, (u as unknown as Record<string, unknown>)[f] ?? null]));
}

/** The same query on this host with a skip token for the next page (other options kept, as Graph does). */
function nextLink(req: IncomingMessage, url: URL, offset: number): string {
  const next = new URLSearchParams(url.searchParams);
  next.set('$skiptoken', Buffer.from(JSON.stringify({ o: offset })).toString('base64url'));
  const host = header(req, 'host') ?? '127.0.0.1';
  return `http://${host}${url.pathname}?${next.toString().replaceAll('+', '%20').replaceAll('%24', '$')}`;
}

export const usersRoute: SimRoute = {
  match: (method, path) => method === 'GET' && /^\/v1\.0\/users\/?$/.test(path),
  handle: handleUsers,
};

const ONE_USER = /^\/v1\.0\/users\/([^/()]+)\/?$/;

/** GET /v1.0/users/{id|upn}?$select=…: one user, read directly (no advanced query needed). */
export async function handleUser(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const ids: ReplyIds = { requestId: randomUUID(), clientRequestId: header(req, 'client-request-id') };
  await readBody(req, 64 * 1024).catch(() => '');
  await delay(state.latencyMs);
  const selectText = url.searchParams.get('$select');
  let directory = state.directory;
  const fail = (e: QueryError, extra: Record<string, string> = {}) => {
    directory.reads.failed++;
    replyError(res, e.status, ids, { code: e.code, message: e.message, ...extra });
  };
  const auth = authProblem(state, req, (selectText ?? '').includes(FILTERABLE));
  if (auth instanceof QueryError) return fail(auth);
  directory = auth.directory;
  if (state.outage) {
    const { status, retryAfter } = state.outage;
    return fail(new QueryError('', '', status), retryAfter ? { retryAfter } : {});
  }
  let key: string;
  let select: string[];
  try {
    key = decodeURIComponent(ONE_USER.exec(url.pathname)?.[1] ?? '');
    checkUserQuery(url.searchParams);
    select = parseSelect(selectText);
  } catch (err) {
    if (err instanceof QueryError) return fail(err);
    return fail(new QueryError('BadRequest', 'Invalid object identifier.'));
  }
  const user = directory.find(key);
  if (!user) {
    return fail(
      new QueryError(
        'Request_ResourceNotFound',
        `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
        404,
      ),
    );
  }
  directory.reads.ok++;
  sendJson(
    res,
    200,
    {
      '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users(${select.join(',')})/$entity`,
      ...pick(user, select),
    },
    replyHeaders(ids),
  );
}

export const userRoute: SimRoute = {
  match: (method, path) => method === 'GET' && ONE_USER.test(path),
  handle: handleUser,
};
