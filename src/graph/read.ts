// What a Graph read answers: a 2xx body turned into a page (`value`, the whole body, the nextLink) and
// a paged list's shape. The calls themselves (pacing, token, URLs, paging loop) are src/graph/call.ts's.
import { GraphError } from './errors.js';
import type { GraphAnswer } from './transport.js';

export interface GraphPage<T = unknown> {
  status: number;
  /** `value` of a collection answer; [] when the body has none. */
  value: T[];
  /** The whole parsed body (single resources, `@odata.count`…). */
  body: Record<string, unknown>;
  /** `@odata.nextLink`: graphRead has checked it is on GRAPH_BASE_URL's origin before returning it. */
  nextLink?: string;
  requestId?: string;
  clientRequestId: string;
  durationMs: number;
}

export interface GraphList<T> {
  value: T[];
  /** Graph request-id of each page, in order (support needs them). */
  requestIds: string[];
  pages: number;
}

/** A 2xx whose body is not the JSON object Graph sends (cut short, or too large). A retry may help. */
export class GraphResponseBodyError extends GraphError {
  readonly retryable = true;
}

/** Too many pages: a nextLink loop or a far larger collection than expected. */
export class GraphPagingLimitError extends Error {
  override readonly name = 'GraphPagingLimitError';
}

/** Largest read body accepted by default (16 MiB); a bigger one is an error, not a silently cut list. */
export const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

/**
 * The page a 2xx read answered, its nextLink as sent (the caller checks its origin: graph/call.ts).
 * Throws GraphResponseBodyError (too large, not a JSON object).
 */
export function toPage<T>(
  answer: GraphAnswer,
  meta: { clientRequestId: string; maxBodyBytes: number },
): GraphPage<T> {
  const { status, requestId, durationMs, text } = answer;
  const details = { status, requestId, clientRequestId: meta.clientRequestId, durationMs };
  if (answer.cut) {
    throw new GraphResponseBodyError(`Graph answer larger than ${meta.maxBodyBytes} bytes`, details);
  }
  const body = parseObject(text);
  if (body === undefined && text.trim() !== '') {
    throw new GraphResponseBodyError('Graph answered 2xx with a body that is not a JSON object', details);
  }
  const value = Array.isArray(body?.value) ? (body.value as T[]) : [];
  const rawNext = body?.['@odata.nextLink'];
  const nextLink = typeof rawNext === 'string' && rawNext ? rawNext : undefined;
  return { ...details, value, body: body ?? {}, ...(nextLink ? { nextLink } : {}) };
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
