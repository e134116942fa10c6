// Turns a non-2xx Graph answer into the typed error the worker branches on (status and code only).
import {
  GraphBadRequestError,
  type GraphError,
  type GraphErrorDetails,
  GraphForbiddenError,
  GraphNotFoundError,
  GraphThrottledError,
  GraphTransientError,
  GraphUnauthorizedError,
} from './errors.js';
import { parseRetryAfter } from './retry-after.js';

export interface ResponseMeta {
  clientRequestId: string;
  durationMs: number;
  /** Reference time for an HTTP-date Retry-After (default now). */
  now?: number;
}

export interface HeaderSource {
  get(name: string): string | null;
}

export interface ParsedGraphError {
  code?: string;
  graphMessage?: string;
  requestId?: string;
  /** Intune's own `RetryAfter` inside the message JSON, used when the header is missing. */
  innerRetryAfter?: string;
}

const MAX_MESSAGE = 1000;

/** Reads `{"error":{"code","message","innerError":{…}}}`, unwrapping Intune's JSON-in-message. Never throws. */
export function parseGraphErrorBody(bodyText: string): ParsedGraphError {
  const body = tryJson(bodyText);
  const error = isObject(body) && isObject(body.error) ? body.error : undefined;
  if (!error) {
    const text = bodyText.trim();
    return text ? { graphMessage: clip(text) } : {};
  }
  const result: ParsedGraphError = {};
  if (typeof error.code === 'string' && error.code) result.code = error.code;
  const inner = isObject(error.innerError)
    ? error.innerError
    : isObject(error.innererror)
      ? error.innererror
      : undefined;
  if (inner && typeof inner['request-id'] === 'string') result.requestId = inner['request-id'];
  if (typeof error.message === 'string') {
    const unwrapped = unwrapIntuneMessage(error.message);
    result.graphMessage = clip(unwrapped.message);
    if (unwrapped.retryAfter !== undefined) result.innerRetryAfter = unwrapped.retryAfter;
  }
  return result;
}

/** Intune wraps its own error as a JSON string in `error.message`; keep only what a human reads. */
function unwrapIntuneMessage(message: string): { message: string; retryAfter?: string } {
  const parsed = message.trimStart().startsWith('{') ? tryJson(message) : undefined;
  if (!isObject(parsed)) return { message: message.trim() };
  const text = typeof parsed.Message === 'string' ? parsed.Message.trim() : '';
  const phrase = typeof parsed.CustomApiErrorPhrase === 'string' ? parsed.CustomApiErrorPhrase.trim() : '';
  const source = typeof parsed.ErrorSourceService === 'string' ? parsed.ErrorSourceService.trim() : '';
  const parts = [text || message.trim()];
  if (phrase) parts.push(phrase);
  if (source) parts.push(`(source: ${source})`);
  const ra = parsed.RetryAfter;
  const retryAfter = typeof ra === 'number' || (typeof ra === 'string' && ra.trim()) ? String(ra) : undefined;
  return retryAfter === undefined ? { message: parts.join(' ') } : { message: parts.join(' '), retryAfter };
}

/** Maps status (and body) to a GraphError subclass. Call only for non-2xx answers. */
export function classifyResponse(
  status: number,
  headers: HeaderSource,
  bodyText: string,
  meta: ResponseMeta,
): GraphError {
  const parsed = parseGraphErrorBody(bodyText);
  const details: GraphErrorDetails = {
    status,
    code: parsed.code,
    graphMessage: parsed.graphMessage,
    requestId: headers.get('request-id') ?? parsed.requestId,
    clientRequestId: meta.clientRequestId,
    durationMs: meta.durationMs,
  };
  const now = meta.now ?? Date.now();
  const retryAfterMs =
    parseRetryAfter(headers.get('retry-after'), now) ?? parseRetryAfter(parsed.innerRetryAfter, now);
  if (status === 429) return new GraphThrottledError(details, retryAfterMs);
  if (status >= 500) return new GraphTransientError(details, retryAfterMs);
  if (status === 401) return new GraphUnauthorizedError(details);
  if (status === 403) return new GraphForbiddenError(details);
  if (status === 404) return new GraphNotFoundError(details);
  // 400 and every other unexpected status (405, 409, 412, 422, even 1xx/3xx): retrying will not help.
  return new GraphBadRequestError(details);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}
