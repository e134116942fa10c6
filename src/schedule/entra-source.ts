// Reads leavers from Entra ID: users whose employeeLeaveDateTime falls in the tick's window, every
// page of the advanced query (ConsistencyLevel: eventual, $count=true), each page through the read
// pacer and with a token from the worker's provider. A read is all or nothing: any page failing
// throws EntraReadError and the caller changes nothing (a partial list would look like withdrawals).
import { GraphError, GraphThrottledError, GraphTransientError } from '../graph/errors.js';
import { graphGet, graphGetAll } from '../graph/read.js';
import { leaveDatePath, leaversPath } from '../graph/requests.js';
import { normaliseUser } from '../intake/user.js';
import type { TokenProvider } from '../interfaces.js';
import type { Pacer } from '../pacing/pacer.js';
import { SweepSourceError } from './errors.js';

/** What reading Entra needs: GRAPH_BASE_URL, the worker's token provider and the read pacer. */
export interface EntraReader {
  baseUrl: string;
  tokenProvider: TokenProvider;
  readPacer: Pacer;
  /** Per-page timeout (GRAPH_TIMEOUT). */
  timeoutMs: number;
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

/** Feeds a page's answer back into the read pacer: 429 gates reads, 5xx counts toward systemic failure. */
async function report(pacer: Pacer, outcome: { ok: true } | { error: unknown }): Promise<void> {
  if ('ok' in outcome) return pacer.onSuccess('entra:users');
  const err = outcome.error;
  if (err instanceof GraphThrottledError) await pacer.onThrottled(err.retryAfterMs);
  else if (err instanceof GraphTransientError) await pacer.onFailure('entra:users', err.retryAfterMs);
}

async function paced(reader: EntraReader): Promise<string> {
  await reader.readPacer.take(reader.signal);
  const gate = reader.readPacer.localGateUntil() - Date.now();
  if (gate > 0) await new Promise((r) => setTimeout(r, gate));
  return reader.tokenProvider.getToken();
}

/** Every user with a leave date in the window, all pages or EntraReadError. */
export async function readLeavers(reader: EntraReader, w: LeaveWindow): Promise<EntraRead> {
  let failedPage = 0;
  let list: Awaited<ReturnType<typeof graphGetAll<Record<string, unknown>>>>;
  try {
    list = await graphGetAll<Record<string, unknown>>({
      baseUrl: reader.baseUrl,
      url: leaversPath(w, reader.pageSize),
      timeoutMs: reader.timeoutMs,
      headers: { ConsistencyLevel: 'eventual' },
      ...(reader.signal ? { signal: reader.signal } : {}),
      beforePage: async (page) => {
        failedPage = page;
        return paced(reader);
      },
      afterPage: (r) => report(reader.readPacer, 'ok' in r ? { ok: true } : { error: r.error }),
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
  const token = await paced(reader);
  try {
    const page = await graphGet<unknown>({
      baseUrl: reader.baseUrl,
      url: leaveDatePath(id),
      token,
      timeoutMs: reader.timeoutMs,
      ...(reader.signal ? { signal: reader.signal } : {}),
    });
    await report(reader.readPacer, { ok: true });
    const v = page.body.employeeLeaveDateTime;
    const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
  } catch (err) {
    await report(reader.readPacer, { error: err });
    if (err instanceof GraphError && err.status === 404) return undefined;
    const e = describe(err, 0);
    throw new EntraReadError(
      e.message.replace('users read failed on page 1', `user ${id} read failed`),
      e.status,
      e.code,
    );
  }
}
