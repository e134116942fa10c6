// The simulator's user directory: users with `employeeLeaveDateTime` behind GET /v1.0/users, the
// advanced query Graph requires for it (ConsistencyLevel: eventual and $count=true, 400 without),
// a real $filter evaluator for the leave-date window, $select, and paging with @odata.nextLink.
// The Entra sweep source reads it; a control can move or clear a date and fail one page.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { delay, readBody, sendJson } from '../http.js';
import type { SimState } from '../state.js';
import { PERMISSIONS, stableGuid } from '../tokens.js';
import { type ReplyIds, replyError, replyHeaders } from './responses.js';
import type { SimRoute } from './server.js';
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

export interface SimUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
  /** ISO 8601 UTC, or null when HR has set no leave date. */
  employeeLeaveDateTime: string | null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const userInput = z.strictObject({
  id: z.string().regex(GUID).optional(),
  userPrincipalName: z.string().min(3).max(113),
  displayName: z.string().max(256).optional(),
  accountEnabled: z.boolean().optional(),
  employeeLeaveDateTime: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time')
    .nullable()
    .optional(),
});

/** Control `users`: add or change users (matched by id, else UPN), remove some, or start empty. */
export const usersControlSchema = z.strictObject({
  clear: z.literal(true).optional(),
  upsert: z.array(userInput).max(100_000).optional(),
  remove: z.array(z.string().min(1).max(256)).max(100_000).optional(),
});
export type UsersControl = z.infer<typeof usersControlSchema>;

export class SimDirectory {
  private readonly byId = new Map<string, SimUser>();
  /** 1-based page number that answers 503 while set (a partial read for the sweep's tests). */
  failPage: number | null = null;
  /** Successful and failed reads of /users, for tests and the stats of a demo. */
  reads = { ok: 0, failed: 0 };

  apply(c: UsersControl): void {
    if (c.clear) this.byId.clear();
    for (const key of c.remove ?? []) {
      const found = this.find(key);
      if (found) this.byId.delete(found.id);
    }
    for (const u of c.upsert ?? []) {
      const upn = u.userPrincipalName.toLowerCase();
      const existing = (u.id && this.byId.get(u.id.toLowerCase())) || this.find(upn);
      const id = (u.id ?? existing?.id ?? stableGuid(`user:${upn}`)).toLowerCase();
      if (existing && existing.id !== id) this.byId.delete(existing.id);
      const leave =
        u.employeeLeaveDateTime === undefined
          ? (existing?.employeeLeaveDateTime ?? null)
          : u.employeeLeaveDateTime === null
            ? null
            : canonical(u.employeeLeaveDateTime);
      this.byId.set(id, {
        id,
        userPrincipalName: u.userPrincipalName,
        displayName: u.displayName ?? existing?.displayName ?? upn.split('@')[0] ?? upn,
        accountEnabled: u.accountEnabled ?? existing?.accountEnabled ?? true,
        employeeLeaveDateTime: leave,
      });
    }
  }

  /** A user by object id or UPN (case-insensitive). */
  find(key: string): SimUser | undefined {
    const k = key.toLowerCase();
    return this.byId.get(k) ?? [...this.byId.values()].find((u) => u.userPrincipalName.toLowerCase() === k);
  }

  /** Every user, in a stable order (by id) so paging is repeatable. */
  all(): SimUser[] {
    return [...this.byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}

/** Graph answers leave dates as `2026-12-01T16:00:00Z` (UTC, whole seconds). */
function canonical(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** 401/403 the way Graph's gateway and directory answer them, or null when the caller may read. */
function authProblem(state: SimState, req: IncomingMessage, touchesLeave: boolean): QueryError | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
  if (!bearer) return new QueryError('InvalidAuthenticationToken', 'Access token is empty.', 401);
  const check = state.tokens.check(bearer, state.tenantId);
  if (!check.ok) return new QueryError('InvalidAuthenticationToken', check.message, 401);
  const noRoles = check.claims.idtyp === 'app' && !Array.isArray(check.claims.roles);
  if (
    noRoles ||
    state.deniedPermissions.has(PERMISSIONS.readUsers) ||
    (touchesLeave && state.deniedPermissions.has(PERMISSIONS.readLifecycleInfo))
  ) {
    return new QueryError(
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
      403,
    );
  }
  return null;
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
  const fail = (e: QueryError, extra: Record<string, string> = {}) => {
    state.directory.reads.failed++;
    replyError(res, e.status, ids, { code: e.code, message: e.message, ...extra });
  };
  const denied = authProblem(state, req, touchesLeave);
  if (denied) return fail(denied);
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
    const matching = state.directory.all().filter((u) => (clauses ? matchesLeave(u, clauses) : true));
    total = matching.length;
    page = matching.slice(offset, offset + top);
  } catch (err) {
    if (err instanceof QueryError) return fail(err);
    throw err;
  }
  const pageNumber = Math.floor(offset / top) + 1;
  if (state.directory.failPage !== null && pageNumber === state.directory.failPage) {
    return fail(new QueryError('ServiceUnavailable', 'The service is temporarily unavailable.', 503));
  }
  const body: Record<string, unknown> = {
    '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users(${select.join(',')})`,
  };
  if (count === 'true') body['@odata.count'] = total;
  if (offset + top < total) body['@odata.nextLink'] = nextLink(req, url, offset + top);
  body.value = page.map((u) => pick(u, select));
  state.directory.reads.ok++;
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
  const fail = (e: QueryError, extra: Record<string, string> = {}) => {
    state.directory.reads.failed++;
    replyError(res, e.status, ids, { code: e.code, message: e.message, ...extra });
  };
  const denied = authProblem(state, req, (selectText ?? '').includes(FILTERABLE));
  if (denied) return fail(denied);
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
  const user = state.directory.find(key);
  if (!user) {
    return fail(
      new QueryError(
        'Request_ResourceNotFound',
        `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
        404,
      ),
    );
  }
  state.directory.reads.ok++;
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
