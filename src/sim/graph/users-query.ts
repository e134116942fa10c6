// Reading a GET /v1.0/users query the way Graph does: first the contract (every property named in
// $select, $filter, $orderby must be a v1.0 `user` property: refusal.ts words the 400), then the
// leave-date $filter (comparisons joined by `and`, evaluated for real), $top and the skip token, each
// refused with Graph's 400 codes.
import { checkQuery } from '../../graph/contract/check.js';
import { refusal } from './refusal.js';
import type { SimUser } from './users.js';

/** Graph's DateTimeOffset literal in $filter: unquoted, with seconds optional and an offset or Z. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Raised while reading the query: answered as Graph's 400 with this code and message. */
export class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Op = 'ge' | 'le' | 'gt' | 'lt';
export interface Clause {
  op: Op;
  at: number;
}

export const FILTERABLE = 'employeeLeaveDateTime';

/**
 * `employeeLeaveDateTime ge 2026-12-01T00:00:00Z and employeeLeaveDateTime le …`: comparisons of
 * the leave date joined by `and`. Anything else (or, not, functions, other properties) is refused.
 */
export function parseLeaveFilter(text: string): Clause[] {
  const tokens = text.trim().split(/\s+/);
  const clauses: Clause[] = [];
  let i = 0;
  for (;;) {
    const [prop, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (prop === undefined || op === undefined || value === undefined) {
      throw new QueryError(
        'BadRequest',
        `Invalid filter clause: syntax error at position ${i} in '${text}'.`,
      );
    }
    if (prop !== FILTERABLE) {
      throw new QueryError(
        'Request_UnsupportedQuery',
        `Unsupported or invalid query filter clause specified for property '${prop}' of resource 'User'.`,
      );
    }
    if (!['ge', 'le', 'gt', 'lt'].includes(op)) {
      throw new QueryError(
        'Request_UnsupportedQuery',
        `Unsupported Query. Operator '${op}' is not supported.`,
      );
    }
    if (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
      throw new QueryError(
        'Request_UnsupportedQuery',
        "The type of the value doesn't match the property whose type is DateTimeOffset",
      );
    }
    clauses.push({ op: op as Op, at: Date.parse(value) });
    i += 3;
    if (i === tokens.length) return clauses;
    if (tokens[i] !== 'and') {
      throw new QueryError(
        'Request_UnsupportedQuery',
        `Unsupported Query. Only 'and' may join clauses here, found '${tokens[i]}'.`,
      );
    }
    i += 1;
  }
}

export function matchesLeave(user: SimUser, clauses: readonly Clause[]): boolean {
  if (user.employeeLeaveDateTime === null) return false;
  const t = Date.parse(user.employeeLeaveDateTime);
  return clauses.every((c) =>
    c.op === 'ge' ? t >= c.at : c.op === 'le' ? t <= c.at : c.op === 'gt' ? t > c.at : t < c.at,
  );
}

/** Without $select Graph returns its default set, which does not include the leave date. */
const DEFAULT_SELECT = ['id', 'userPrincipalName', 'displayName'];
export const KNOWN_OPTIONS = new Set(['$filter', '$select', '$count', '$top', '$skiptoken']);
const DEFAULT_TOP = 100;
export const USER_TYPE = 'microsoft.graph.user';

/** Refuses a query naming what v1.0's `user` lacks (a property, an option), as Graph does. */
export function checkUserQuery(query: URLSearchParams): void {
  const violation = checkQuery(USER_TYPE, query)[0];
  if (violation) {
    const r = refusal(violation);
    throw new QueryError(r.code, r.message, r.status);
  }
}

/** The $select fields (any v1.0 user property: checkUserQuery ran first), or Graph's default set. */
export function parseSelect(raw: string | null): string[] {
  if (raw === null) return DEFAULT_SELECT;
  checkUserQuery(new URLSearchParams({ $select: raw }));
  return raw.split(',').map((f) => f.trim());
}

export function parseTop(raw: string | null): number {
  if (raw === null) return DEFAULT_TOP;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 999) {
    throw new QueryError(
      'Request_BadRequest',
      `Invalid page size specified: '${raw}'. Must be between 1 and 999 inclusive.`,
    );
  }
  return n;
}

export function parseSkipToken(raw: string | null): number {
  if (raw === null) return 0;
  try {
    const o = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof o.o === 'number' && Number.isInteger(o.o) && o.o >= 0) return o.o;
  } catch {
    // answered below
  }
  throw new QueryError('Request_BadRequest', 'Invalid skip token.');
}
