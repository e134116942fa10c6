// Graph reads: one GET (`graphGet`) and a paged list that follows `@odata.nextLink` (`graphGetAll`).
// The exchange itself (timeout, abort, classification) is the retire call's: transport.ts.
// A nextLink is server-provided: it is followed only on GRAPH_BASE_URL's origin, so a tampered or
// misrouted page can never make us send the bearer token somewhere else.
import { randomUUID } from 'node:crypto';
import { GraphError } from './errors.js';
import { graphExchange } from './transport.js';
import { checkGraphBaseUrl } from './url.js';

export interface GraphGetOptions {
  /** GRAPH_BASE_URL, e.g. `https://graph.microsoft.com/v1.0`: https only, except loopback hosts. */
  baseUrl: string;
  /** A path below baseUrl (`users/x/managedDevices?$select=…`) or an absolute URL on its origin. */
  url: string;
  /** Bearer access token. Never logged. */
  token: string;
  /** Per-call budget covering connect, headers and body. */
  timeoutMs: number;
  /** Extra request headers, e.g. `ConsistencyLevel: eventual` for `$count`/`$filter` on users. */
  headers?: Record<string, string>;
  /** Sent as `client-request-id`; default a random UUID. */
  clientRequestId?: string;
  /** Caller cancellation. Its abort reason is rethrown as is. */
  signal?: AbortSignal;
  /** Largest body accepted (default 16 MiB); a bigger one is an error, not a silently cut list. */
  maxBodyBytes?: number;
}

export interface GraphPage<T = unknown> {
  status: number;
  /** `value` of a collection answer; [] when the body has none. */
  value: T[];
  /** The whole parsed body (single resources, `@odata.count`…). */
  body: Record<string, unknown>;
  /** `@odata.nextLink`, already checked to be on GRAPH_BASE_URL's origin. */
  nextLink?: string;
  requestId?: string;
  clientRequestId: string;
  durationMs: number;
}

/** A nextLink (or a URL given by the caller) points away from GRAPH_BASE_URL's origin: not followed. */
export class ForeignGraphUrlError extends Error {
  override readonly name = 'ForeignGraphUrlError';
}

/** A 2xx whose body is not the JSON object Graph sends (cut short, or too large). A retry may help. */
export class GraphResponseBodyError extends GraphError {
  readonly retryable = true;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

/**
 * Resolves `url` against baseUrl and checks it stays on baseUrl's origin. A relative path is taken
 * below baseUrl's path (`users/x` → `…/v1.0/users/x`), never from the host root.
 */
export function resolveGraphUrl(baseUrl: string, url: string): URL {
  const base = checkGraphBaseUrl(baseUrl);
  const baseDir = base.href.endsWith('/') ? base.href : `${base.href}/`;
  const resolved = /^[a-z][a-z0-9+.-]*:/i.test(url)
    ? new URL(url)
    : new URL(url.replace(/^\/+/, ''), baseDir);
  if (resolved.origin !== base.origin) {
    throw new ForeignGraphUrlError(
      `refusing to follow a Graph URL on ${resolved.origin}: only ${base.origin} (GRAPH_BASE_URL) is called`,
    );
  }
  return resolved;
}

/** One GET. Resolves on 2xx with the parsed body; rejects with a GraphError subclass otherwise. */
export async function graphGet<T = unknown>(opts: GraphGetOptions): Promise<GraphPage<T>> {
  const url = resolveGraphUrl(opts.baseUrl, opts.url);
  const clientRequestId = opts.clientRequestId ?? randomUUID();
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const answer = await graphExchange({
    method: 'GET',
    url: url.href,
    token: opts.token,
    timeoutMs: opts.timeoutMs,
    clientRequestId,
    headers: opts.headers,
    signal: opts.signal,
    maxBodyBytes: limit,
  });
  const { status, requestId, durationMs, text } = answer;
  const details = { status, requestId, clientRequestId, durationMs };
  if (answer.cut) throw new GraphResponseBodyError(`Graph answer larger than ${limit} bytes`, details);
  const body = parseObject(text);
  if (body === undefined && text.trim() !== '') {
    throw new GraphResponseBodyError('Graph answered 2xx with a body that is not a JSON object', details);
  }
  const value = Array.isArray(body?.value) ? (body.value as T[]) : [];
  const rawNext = body?.['@odata.nextLink'];
  const nextLink =
    typeof rawNext === 'string' && rawNext ? resolveGraphUrl(opts.baseUrl, rawNext).href : undefined;
  return { ...details, value, body: body ?? {}, ...(nextLink ? { nextLink } : {}) };
}

export interface GraphGetAllOptions extends Omit<GraphGetOptions, 'token' | 'clientRequestId'> {
  /**
   * Called before every page request (pace it: take a read slot) and returns the bearer token to send.
   * `page` counts from 0.
   */
  beforePage(page: number): Promise<string>;
  /** Called after every page request with its answer or its error (records metrics, audit). */
  afterPage?(result: { page: number } & ({ ok: GraphPage } | { error: unknown })): void | Promise<void>;
  /** Stop with an error after this many pages (default 1000): a nextLink loop must not run forever. */
  maxPages?: number;
}

export interface GraphList<T> {
  value: T[];
  /** Graph request-id of each page, in order (support needs them). */
  requestIds: string[];
  pages: number;
}

/** Too many pages: a nextLink loop or a far larger collection than expected. */
export class GraphPagingLimitError extends Error {
  override readonly name = 'GraphPagingLimitError';
}

/**
 * Reads every page of a collection, following `@odata.nextLink` on GRAPH_BASE_URL's origin only.
 * No retry here: a failed page rejects the whole read (callers retry the read; GETs are idempotent).
 */
export async function graphGetAll<T = unknown>(opts: GraphGetAllOptions): Promise<GraphList<T>> {
  const maxPages = opts.maxPages ?? 1000;
  const { beforePage, afterPage, maxPages: _m, ...getOpts } = opts;
  const out: GraphList<T> = { value: [], requestIds: [], pages: 0 };
  let url: string | undefined = opts.url;
  const seen = new Set<string>();
  while (url !== undefined) {
    if (out.pages >= maxPages || seen.has(url)) {
      throw new GraphPagingLimitError(
        seen.has(url) ? 'Graph returned a nextLink already followed' : `more than ${maxPages} pages`,
      );
    }
    seen.add(url);
    const page = out.pages;
    const token = await beforePage(page);
    let result: GraphPage<T>;
    try {
      result = await graphGet<T>({ ...getOpts, url, token });
    } catch (error) {
      await afterPage?.({ page, error });
      throw error;
    }
    await afterPage?.({ page, ok: result });
    out.pages += 1;
    out.value.push(...result.value);
    if (result.requestId) out.requestIds.push(result.requestId);
    url = result.nextLink;
  }
  return out;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
