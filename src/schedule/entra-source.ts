// Reads leavers from Entra ID: users whose employeeLeaveDateTime falls in the tick's window, every
// page of the advanced query (ConsistencyLevel: eventual, $count=true), each page one graphCall on the
// read budget (pace, gate, feedback and 401 refresh as for every Graph call). A read is all or
// nothing: any page failing throws EntraReadError and the caller changes nothing (a partial list
// would look like withdrawals).
import { type GraphCallContext, graphRead, graphReadAll } from '../graph/call.js';
import { GraphError } from '../graph/errors.js';
import { leaveDatePath, leaversPath } from '../graph/requests.js';
import { normaliseUser } from '../values/user.js';
import { SweepSourceError } from './errors.js';

/** The pace's subject for directory reads: they are about no one user. */
const SUBJECT = 'entra:users';

/** What reading Entra needs: the READ budget's call context (the worker's token provider). */
export interface EntraReader {
  graph: GraphCallContext;
  /** Users per page ($top, at most 999). Default 999: fewer paced calls than Graph's default 100. */
  pageSize?: number;
  signal?: AbortSignal;
}

/** The read failed (403, 5xx, 429, timeout, a failing page): nothing from it may be acted on. */
export class EntraReadError extends SweepSourceError {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface LeaveWindow {
  /** Inclusive bounds, epoch ms. */
  fromMs: number;
  toMs: number;
}

/** How far back a missed tick or an outage is caught up. */
export const CATCH_UP_CAP_MS = 7 * 86_400_000;

/**
 * The window of one tick: from the start of the last complete read (capped at CATCH_UP_CAP_MS ago;
 * first read: now) to now + lookahead. Whole seconds: Graph's leave dates have no fractions.
 */
export function leaveWindow(lastReadMs: number | null, now: number, lookaheadMs: number): LeaveWindow {
  const from = lastReadMs === null ? now : Math.min(now, Math.max(lastReadMs, now - CATCH_UP_CAP_MS));
  return { fromMs: Math.floor(from / 1000) * 1000, toMs: Math.ceil((now + lookaheadMs) / 1000) * 1000 };
}

// The request paths live in src/graph/requests.ts, where the contract test checks them.
export { leaversPath, USER_FIELDS } from '../graph/requests.js';

export interface EntraLeaver {
  /** Object id, normalised (lower-case GUID): the job's user. */
  id: string;
  upn?: string;
  /** The leave date, canonical ISO (UTC). */
  leaveAt: string;
  accountEnabled?: boolean;
}

export interface EntraRead {
  leavers: EntraLeaver[];
  /** Entries without a usable id or leave date (counted as invalid, never acted on). */
  invalid: number;
  /** The same object id listed twice (eventual consistency across pages). */
  repeated: number;
  pages: number;
  requestIds: string[];
}

const ADVICE_403 =
  'the app needs the Graph application permissions User.Read.All and User-LifeCycleInfo.Read.All (admin consent)';

function describe(err: unknown, page: number): EntraReadError {
  if (err instanceof GraphError) {
    const what = [`HTTP ${err.status ?? '-'}`, err.code, err.graphMessage].filter(Boolean).join(' ');
    const advice = err.status === 403 ? `; ${ADVICE_403}` : '';
    const rid = err.requestId ? ` (request-id ${err.requestId})` : '';
    return new EntraReadError(
      `Entra users read failed on page ${page + 1}: ${what}${advice}${rid}`.slice(0, 480),
      err.status,
      err.code,
    );
  }
  return new EntraReadError(
    `Entra users read failed on page ${page + 1}: ${(err as Error)?.message ?? String(err)}`.slice(0, 480),
    null,
  );
}

/** Every user with a leave date in the window, all pages or EntraReadError. */
export async function readLeavers(reader: EntraReader, w: LeaveWindow): Promise<EntraRead> {
  let failedPage = 0;
  let list: Awaited<ReturnType<typeof graphReadAll<Record<string, unknown>>>>;
  try {
    list = await graphReadAll<Record<string, unknown>>(reader.graph, {
      path: leaversPath(w, reader.pageSize),
      subject: SUBJECT,
      headers: { ConsistencyLevel: 'eventual' },
      ...(reader.signal ? { wait: reader.signal, call: reader.signal } : {}),
      onExchange: (e) => {
        failedPage = e.page;
      },
    });
  } catch (err) {
    throw describe(err, failedPage);
  }
  const out: EntraRead = {
    leavers: [],
    invalid: 0,
    repeated: 0,
    pages: list.pages,
    requestIds: list.requestIds,
  };
  const seen = new Set<string>();
  for (const raw of list.value) {
    const leaver = toLeaver(raw);
    if (!leaver) out.invalid++;
    else if (seen.has(leaver.id)) out.repeated++;
    else {
      seen.add(leaver.id);
      out.leavers.push(leaver);
    }
  }
  return out;
}

function toLeaver(raw: Record<string, unknown>): EntraLeaver | null {
  let id: string;
  try {
    id = normaliseUser(raw.id);
  } catch {
    return null;
  }
  if (!/^[0-9a-f-]{36}$/.test(id)) return null;
  const ms =
    typeof raw.employeeLeaveDateTime === 'string' ? Date.parse(raw.employeeLeaveDateTime) : Number.NaN;
  if (!Number.isFinite(ms)) return null;
  return {
    id,
    ...(typeof raw.userPrincipalName === 'string' ? { upn: raw.userPrincipalName.slice(0, 113) } : {}),
    leaveAt: new Date(ms).toISOString(),
    ...(typeof raw.accountEnabled === 'boolean' ? { accountEnabled: raw.accountEnabled } : {}),
  };
}

/**
 * One user's leave date read directly (strongly consistent, unlike the advanced-query index the
 * window read uses): null when cleared, undefined when the user no longer exists (404).
 * Throws EntraReadError for any other failure.
 */
export async function readLeaveDate(reader: EntraReader, id: string): Promise<string | null | undefined> {
  try {
    const page = await graphRead<unknown>(reader.graph, {
      path: leaveDatePath(id),
      subject: SUBJECT,
      ...(reader.signal ? { wait: reader.signal, call: reader.signal } : {}),
    });
    const v = page.body.employeeLeaveDateTime;
    const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
  } catch (err) {
    if (err instanceof GraphError && err.status === 404) return undefined;
    const e = describe(err, 0);
    throw new EntraReadError(
      e.message.replace('users read failed on page 1', `user ${id} read failed`),
      e.status,
      e.code,
    );
  }
}
