// One error shape for every failure: an RFC 9457 problem (`application/problem+json`: type, title,
// status, detail, instance, plus `code` and `details` as extensions) that also carries the
// original `{error: {code, message, details?}}` object, which the public contract promises.
// Domain errors are mapped by the catalogue entry they name (errors/catalogue.ts), never by message;
// Fastify's own errors by their code.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS } from '../errors/catalogue.js';
import { catalogueEntry } from '../errors/catalogued-error.js';
import type { RedisClient } from '../redis/connection.js';
import { describeError } from './validation.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
  /** Read by plugins with their own error handlers (rate limiter, Bull Board). */
  get statusCode(): number {
    return this.status;
  }
}

/** RFC 9457 problem details, with the contract's `error` object kept alongside. */
export interface ErrorBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  details?: unknown;
  error: { code: string; message: string; details?: unknown };
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * A stable, non-dereferenceable problem type per code (RFC 9457 section 3.1.1 allows a tag URI);
 * clients branch on it or on `code`, which name the same thing.
 */
export function problemType(code: string): string {
  return `tag:offboard,2026:problem:${code}`;
}

export interface HttpError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

// Fastify's content-type parser and router errors that are the client's fault.
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_url' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long' },
  // A stalled Redis (no answer, connection still open): the work may still finish after the
  // answer, so the client retries and intake's per-user deduplication catches the repeat.
  FST_ERR_HANDLER_TIMEOUT: { status: 503, code: 'timeout' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'bad_request' },
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
]);

const DOWN_STATES = new Set(['reconnecting', 'close', 'end']);

/**
 * The client lost its connection and has not got it back. Requests then answer 503 at once
 * instead of waiting for the fail-fast client's reconnect attempts (seconds once backed off).
 * `connecting` is not down: at start-up commands wait briefly for the first connection.
 */
export function redisDown(redis: RedisClient): boolean {
  return DOWN_STATES.has(redis.status);
}

export const REDIS_UNAVAILABLE: HttpError = {
  ...ERRORS.OFB_ERR_REDIS_UNAVAILABLE.http,
  message: ERRORS.OFB_ERR_REDIS_UNAVAILABLE.title,
};

const INTERNAL: HttpError = { ...ERRORS.OFB_ERR_INTERNAL.http, message: ERRORS.OFB_ERR_INTERNAL.title };

/** A catalogued domain error as the API answers it: the entry's status and code, its own message. */
function fromCatalogue(err: unknown): HttpError | undefined {
  const http = catalogueEntry(err)?.http;
  if (!http) return undefined;
  const e = err as Error & Record<string, unknown>;
  const details = http.details ? { details: http.details(e) } : {};
  return { status: http.status, code: http.code, message: e.message, ...details };
}

/**
 * Redis is unreachable when the fail-fast client gave up on a command, a socket error surfaced,
 * or the client is not connected right now (any unexpected error while it reconnects).
 */
export function isRedisUnavailable(err: unknown, redis?: RedisClient): boolean {
  const e = err as { name?: string; code?: string } | null;
  if (e?.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  return redis !== undefined && redis.status !== 'ready';
}

function validationDetails(err: FastifyError): { path: string; message: string }[] {
  const root = err.validationContext ?? 'body';
  return (err.validation ?? []).slice(0, 10).map((v) => ({
    path: `${root}${v.instancePath || ''}`,
    message: describeError(v, root),
  }));
}

export function toHttpError(err: unknown, redis?: RedisClient): HttpError {
  if (err instanceof ApiError)
    return { status: err.status, code: err.code, message: err.message, details: err.details };
  const catalogued = fromCatalogue(err);
  if (catalogued) return catalogued;
  const fe = err as FastifyError;
  if (fe?.validation) {
    const details = validationDetails(fe);
    return {
      status: 400,
      code: 'invalid_request',
      message: details[0]?.message ?? 'invalid request',
      details,
    };
  }
  const known = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return { ...known, message: fe.message.slice(0, 300) };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: 'bad_request', message: fe.message.slice(0, 300) };
  }
  if (isRedisUnavailable(err, redis)) return REDIS_UNAVAILABLE;
  return INTERNAL;
}

/** `instance`: the request's path (never its query, which may name a leaver). */
export function errorBody(e: HttpError, instance?: string): ErrorBody {
  const details = e.details !== undefined ? { details: e.details } : {};
  return {
    type: problemType(e.code),
    title: STATUS_CODES[e.status] ?? 'Error',
    status: e.status,
    detail: e.message,
    ...(instance !== undefined ? { instance } : {}),
    code: e.code,
    ...details,
    error: { code: e.code, message: e.message, ...details },
  };
}

/** Every error path answers through here: problem+json with the status of the error. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, e: HttpError): FastifyReply {
  const path = (request.raw.url ?? request.url ?? '/').split('?')[0] ?? '/';
  return reply
    .status(e.status)
    .type(PROBLEM_MEDIA_TYPE)
    .send(errorBody(e, path.slice(0, 512)));
}

export function errorHandler(redis: RedisClient) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const e = toHttpError(err, redis);
    if (e.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: e.code, status: e.status }, 'request refused');
    if (e.status === 503) reply.header('retry-after', '5');
    return sendProblem(reply, request, e);
  };
}
