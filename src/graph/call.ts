// THE way this product calls Graph, writes and reads alike: token → pacer slot (the write or the read
// budget) → the Retry-After gate this process heard → one exchange (transport.ts) → the answer fed
// back to the pacer → one fresh token after a 401. The retire POST, the inventory and verification
// reads, the Entra sweep queries and the Lifecycle Workflows resume all go through here, so the pace,
// the gate and the feedback rule cannot drift apart again. What one call needs to know about where it
// goes (base URL, token provider, budget, circuit, timeout, transport) is ONE value, GraphCallContext:
// a later "which tenant" is one more field of it.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/load.js';
import { appTokenRoles } from '../entra/claims.js';
import type { TokenProvider } from '../interfaces.js';
import type { Pacer } from '../pacing/pacer.js';
import { sleep } from '../pacing/sleep.js';
import {
  GraphBadRequestError,
  GraphError,
  GraphForbiddenError,
  GraphNetworkError,
  GraphNotFoundError,
  GraphThrottledError,
  GraphTimeoutError,
  GraphTransientError,
  GraphUnauthorizedError,
} from './errors.js';
import { DEFAULT_MAX_BODY, type GraphList, type GraphPage, GraphPagingLimitError, toPage } from './read.js';
import { type GraphAnswer, type GraphExchange, graphExchange } from './transport.js';
import { graphUrl } from './url.js';

/** A token provider that always answers the same token (one-off calls; never refreshed). */
export function fixedToken(token: string): Pick<TokenProvider, 'getToken'> {
  return { getToken: () => Promise.resolve(token) };
}

/** The context of a worker's calls from its configuration (GRAPH_BASE_URL, GRAPH_TIMEOUT). */
export function graphContext(
  config: Pick<Config, 'graph'>,
  tokenProvider: Pick<TokenProvider, 'getToken'>,
  pacer: Pacer,
  transport?: GraphTransport,
): GraphCallContext {
  return {
    baseUrl: config.graph.baseUrl,
    timeoutMs: config.graph.timeoutMs,
    tokenProvider,
    pacer,
    ...(transport ? { transport } : {}),
  };
}

/** One HTTP exchange; graph/transport's by default (a benchmark or a fault test may pass another). */
export type GraphTransport = (x: GraphExchange) => Promise<GraphAnswer>;

/** Where a call goes and what it spends: one value, built once per worker (or per tenant). */
export interface GraphCallContext {
  /** GRAPH_BASE_URL: https only, except loopback hosts. */
  baseUrl: string;
  tokenProvider: Pick<TokenProvider, 'getToken'>;
  /**
   * The budget the call spends: the write pacer (retire, resume) or the read pacer (inventory,
   * verification, Entra). Its hold key is the circuit: while that is open no call starts
   * (PacerHoldError). Absent only for a one-off call outside the fleet (the simulator's own tests).
   */
  pacer?: Pacer;
  /** Per-call budget covering connect, headers and body (GRAPH_TIMEOUT). */
  timeoutMs: number;
  /** Default graph/transport's graphExchange. */
  transport?: GraphTransport;
}

/** The facts of one exchange, 2xx or not, for the caller's audit and metrics. */
export interface Exchange {
  /** When the call was sent (ISO). */
  at: string;
  clientRequestId: string;
  /** HTTP status; null when nothing came back (timeout, connection error, cancellation). */
  status: number | null;
  requestId?: string;
  durationMs: number;
  /** The failure (a GraphError, or the caller's abort reason), absent on 2xx. */
  error?: unknown;
}

export interface GraphRequest {
  /** DELETE only for the device policy's removals (a 204, body drained like a POST's). */
  method: 'GET' | 'POST' | 'DELETE';
  /** Below GRAPH_BASE_URL (`users/x/…`), or an absolute URL on its origin (a nextLink). */
  path: string;
  /** Who the call is about: the pacer's health window judges failures across distinct subjects. */
  subject: string;
  headers?: Record<string, string>;
  /** A JSON body for a POST. */
  body?: string;
  /** Largest 2xx body read. Default: none for a POST (drained), 16 MiB for a GET. */
  maxBodyBytes?: number;
  /** Sent as `client-request-id`; default a fresh UUID per exchange. */
  clientRequestId?: string;
  /** Shutdown or cancellation: stops waiting for a slot or a gate (no call was started). */
  wait?: AbortSignal;
  /** Cancellation: aborts the exchange on the wire (shutdown lets a call in flight finish). */
  call?: AbortSignal;
  /** Fetch the first token past the cache. */
  forceRefresh?: boolean;
  /** One more try with a fresh token after a 401. Default true (false for a fixed token). */
  refreshOn401?: boolean;
  /** Called after every exchange (the 401 before a refresh included), before the call returns. */
  onExchange?: (e: Exchange) => void | Promise<void>;
}

export interface GraphCallAnswer extends GraphAnswer {
  clientRequestId: string;
  /** When the answered call was sent (ISO): the evidence's action time. */
  at: string;
}

/** What an answer tells the pace; one rule for every caller (tested as a table, test/graph/call-feedback). */
export type PaceFeedback = 'healthy' | 'throttled' | 'failure' | 'none';

/**
 * A 2xx, or a 400/404 (about the request or the user: Graph itself works) is healthy; a 429 is the
 * app's budget; a 5xx, timeout or connection error counts toward a systemic failure; a 401/403 or
 * anything that is not a Graph answer says nothing about the pace.
 */
export function feedbackOf(error?: unknown): PaceFeedback {
  if (error === undefined) return 'healthy';
  if (error instanceof GraphThrottledError) return 'throttled';
  if (error instanceof GraphError && error.retryable) return 'failure';
  if (error instanceof GraphNotFoundError || error instanceof GraphBadRequestError) return 'healthy';
  return 'none';
}

/** Retry-After carried by a throttled or 5xx answer, when Graph sent one. */
export function retryAfterOf(err: unknown): number | undefined {
  if (err instanceof GraphThrottledError || err instanceof GraphTransientError) return err.retryAfterMs;
  return undefined;
}

/** The metric label of an exchange: its status, or `timeout` / `network` when nothing came back. */
export function exchangeStatus(e: Pick<Exchange, 'status' | 'error'>): number | 'timeout' | 'network' {
  if (e.error instanceof GraphTimeoutError) return 'timeout';
  if (e.error instanceof GraphNetworkError || e.status === null) return 'network';
  return e.status;
}

async function feedBack(pacer: Pacer | undefined, subject: string, error?: unknown): Promise<void> {
  if (!pacer) return;
  // The gate goes up before anything else so other processes stop starting calls at once. A Redis
  // failure here must not hide Graph's answer: the next slot asks Redis again anyway.
  switch (feedbackOf(error)) {
    case 'healthy':
      return pacer.onSuccess(subject);
    case 'throttled':
      await pacer.onThrottled(retryAfterOf(error), { slowDown: true }).catch(() => undefined);
      return;
    case 'failure':
      await pacer.onFailure(subject, retryAfterOf(error)).catch(() => undefined);
      return;
    case 'none':
      return;
  }
}

/** Token, then a slot, then any gate this process heard after the slot was granted. */
async function pacedToken(ctx: GraphCallContext, force: boolean, wait?: AbortSignal): Promise<string> {
  // Token first: a slot taken and then spent waiting for the token endpoint would land the call late,
  // bunched with the next slot's call. After the wait the token comes from the cache (a long gate may
  // have let it near expiry, and the provider renews it then).
  const first = await ctx.tokenProvider.getToken(force ? { forceRefresh: true } : undefined);
  const pacer = ctx.pacer;
  if (!pacer) return first;
  await pacer.take(wait);
  // A Retry-After this process heard after the slot was granted: wait it out and take a new slot.
  while (pacer.localGateUntil() > Date.now()) {
    await sleep(pacer.localGateUntil() - Date.now(), wait);
    await pacer.take(wait);
  }
  return ctx.tokenProvider.getToken();
}

/** One paced call; `finish` turns the 2xx answer into the result (a throw there counts as a failure). */
async function paced<T>(
  ctx: GraphCallContext,
  req: GraphRequest,
  finish: (answer: GraphAnswer, meta: { clientRequestId: string; at: string; maxBodyBytes: number }) => T,
): Promise<T> {
  // Checked before any token or slot is spent: a token never goes to another host or over plain http.
  const url = graphUrl(ctx.baseUrl, req.path);
  const transport = ctx.transport ?? graphExchange;
  const maxBodyBytes = req.maxBodyBytes ?? (req.method === 'GET' ? DEFAULT_MAX_BODY : 0);
  let force = req.forceRefresh === true;
  for (let round = 0; ; round++) {
    const token = await pacedToken(ctx, force, req.wait);
    force = false;
    const clientRequestId = req.clientRequestId ?? randomUUID();
    const at = new Date().toISOString();
    const started = performance.now();
    let answer: GraphAnswer | undefined;
    try {
      answer = await transport({
        method: req.method,
        url,
        token,
        timeoutMs: ctx.timeoutMs,
        clientRequestId,
        ...(req.headers ? { headers: req.headers } : {}),
        ...(req.body === undefined ? {} : { body: req.body }),
        ...(req.call ? { signal: req.call } : {}),
        maxBodyBytes,
      });
      const result = finish(answer, { clientRequestId, at, maxBodyBytes });
      await feedBack(ctx.pacer, req.subject);
      await req.onExchange?.({
        at,
        clientRequestId,
        status: answer.status,
        ...(answer.requestId ? { requestId: answer.requestId } : {}),
        durationMs: answer.durationMs,
      });
      return result;
    } catch (error) {
      await feedBack(ctx.pacer, req.subject, error);
      // What the refused token was allowed: a 403 to a token without the permission is the app's
      // consent, not this user (control/permission-refusal.ts).
      if (error instanceof GraphForbiddenError) error.tokenRoles = appTokenRoles(token);
      const g = error instanceof GraphError ? error : undefined;
      await req.onExchange?.({
        at,
        clientRequestId,
        status: g ? g.status : (answer?.status ?? null),
        ...(g?.requestId ? { requestId: g.requestId } : {}),
        durationMs: g ? g.durationMs : Math.round(performance.now() - started),
        error,
      });
      // A token Graph no longer takes (revoked, rotated, expired between cache and call): once.
      if (error instanceof GraphUnauthorizedError && round === 0 && req.refreshOn401 !== false) {
        force = true;
        continue;
      }
      throw error;
    }
  }
}

/**
 * One call (a POST action, or a GET whose body the caller reads as a whole). Resolves on 2xx; rejects
 * with a GraphError subclass (a 401 only after one fresh token got 401 again), PacerHoldError (the
 * circuit is open), the token provider's error, or the caller's abort reason.
 */
export function graphCall(ctx: GraphCallContext, req: GraphRequest): Promise<GraphCallAnswer> {
  return paced(ctx, req, (answer, meta) => ({
    ...answer,
    clientRequestId: meta.clientRequestId,
    at: meta.at,
  }));
}

/** One GET of a single page or resource, parsed (GraphResponseBodyError for a body that is not JSON). */
export function graphRead<T = unknown>(
  ctx: GraphCallContext,
  req: Omit<GraphRequest, 'method' | 'body'>,
): Promise<GraphPage<T>> {
  return paced(ctx, { ...req, method: 'GET' }, (answer, meta) => {
    const page = toPage<T>(answer, meta);
    // A server-provided nextLink is followed on GRAPH_BASE_URL's origin only: the token never leaves it.
    if (page.nextLink !== undefined) page.nextLink = graphUrl(ctx.baseUrl, page.nextLink);
    return page;
  });
}

export interface GraphReadAllRequest extends Omit<GraphRequest, 'method' | 'body' | 'onExchange'> {
  /** Stop with GraphPagingLimitError after this many pages (default 1000): a nextLink loop must end. */
  maxPages?: number;
  /** After every exchange, with the page it was for (counting from 0). */
  onExchange?: (e: Exchange & { page: number }) => void | Promise<void>;
}

/**
 * Every page of a collection, each page one paced call, following `@odata.nextLink` on
 * GRAPH_BASE_URL's origin only. No retry here: a failed page rejects the whole read (callers retry
 * the read; GETs are idempotent).
 */
export async function graphReadAll<T = unknown>(
  ctx: GraphCallContext,
  req: GraphReadAllRequest,
): Promise<GraphList<T>> {
  const maxPages = req.maxPages ?? 1000;
  const { maxPages: _m, onExchange, ...base } = req;
  const out: GraphList<T> = { value: [], requestIds: [], pages: 0 };
  let path: string | undefined = req.path;
  const seen = new Set<string>();
  while (path !== undefined) {
    if (out.pages >= maxPages || seen.has(path)) {
      throw new GraphPagingLimitError(
        seen.has(path) ? 'Graph returned a nextLink already followed' : `more than ${maxPages} pages`,
      );
    }
    seen.add(path);
    const page = out.pages;
    const result: GraphPage<T> = await graphRead<T>(ctx, {
      ...base,
      path,
      // Only the first page's first token skips the cache.
      forceRefresh: page === 0 && req.forceRefresh === true,
      ...(onExchange ? { onExchange: (e: Exchange) => onExchange({ ...e, page }) } : {}),
    });
    out.pages += 1;
    out.value.push(...result.value);
    if (result.requestId) out.requestIds.push(result.requestId);
    path = result.nextLink;
  }
  return out;
}
