// Idempotency-Key on the intake POSTs: a producer that retries after a lost answer gets the first
// answer again instead of a second job, held batch or audit entry. One Redis string per API key
// name and key: first a short claim (a concurrent retry answers 409 rather than running twice),
// then the stored answer for 24 h. The same key with another body is the caller's bug: 422.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';
import { actorOf } from './auth/access.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route honours an Idempotency-Key header (see src/api/idempotency.ts). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotencyClaim?: { key: string; fingerprint: string };
  }
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
/** How long an answer is kept and replayed. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** A claim whose request died with its process frees the key after this; longer than any intake. */
const CLAIM_TTL_SECONDS = 600;

/** Header schema for the intake routes: visible ASCII (no spaces), 1-255 characters. */
export const idempotencyHeaders = {
  type: 'object',
  properties: {
    [IDEMPOTENCY_HEADER]: {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        'Optional. The same key (per API key) with the same body within 24 h answers the first answer again ' +
        '(header Idempotent-Replayed: true) and stores nothing new; with another body: 422 ' +
        'idempotency_key_reused; while the first request still runs: 409 idempotency_in_progress. A UUID is a good key.',
    },
  },
} as const;

export class IdempotencyKeyReusedError extends ApiError {
  constructor() {
    super(
      422,
      'idempotency_key_reused',
      'this Idempotency-Key was used with a different request body; use a new key for a new request',
    );
  }
}

export class IdempotencyInProgressError extends ApiError {
  constructor() {
    super(
      409,
      'idempotency_in_progress',
      'a request with this Idempotency-Key is still running; retry later',
    );
  }
}

interface Stored {
  fingerprint: string;
  /** Absent while the first request runs. */
  answer?: { status: number; body: string; contentType: string; location?: string };
}

/** Key order does not change what was asked: `{a,b}` and `{b,a}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function replay(reply: FastifyReply, answer: NonNullable<Stored['answer']>): FastifyReply {
  reply.header(REPLAYED_HEADER, 'true').header('content-type', answer.contentType);
  if (answer.location) reply.header('location', answer.location);
  return reply.status(answer.status).send(answer.body);
}

export function registerIdempotency(app: FastifyInstance, redis: RedisClient, prefix: string): void {
  // preHandler: after authentication (the key's name scopes the key) and body validation.
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const given = request.headers[IDEMPOTENCY_HEADER];
    if (!request.routeOptions.config.idempotent || typeof given !== 'string') return;
    const key = keys.idempotency(prefix, actorOf(request), sha256(given));
    const fingerprint = sha256(`${request.method} ${request.routeOptions.url} ${canonical(request.body)}`);
    const claimed = await redis.set(key, JSON.stringify({ fingerprint }), 'EX', CLAIM_TTL_SECONDS, 'NX');
    if (claimed === 'OK') {
      request.idempotencyClaim = { key, fingerprint };
      return;
    }
    const raw = await redis.get(key);
    const stored = raw ? (JSON.parse(raw) as Stored) : undefined;
    if (stored && stored.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
    // Gone between the two commands (its claim expired): as good as still running.
    if (!stored?.answer) throw new IdempotencyInProgressError();
    request.log.info({ status: stored.answer.status }, 'idempotent request replayed');
    return replay(reply, stored.answer);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim;
    if (!claim) return payload;
    request.idempotencyClaim = undefined;
    try {
      if (reply.statusCode < 300 && typeof payload === 'string') {
        const location = reply.getHeader('location');
        const answer = {
          status: reply.statusCode,
          body: payload,
          contentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
          ...(typeof location === 'string' ? { location } : {}),
        };
        const stored: Stored = { fingerprint: claim.fingerprint, answer };
        await redis.set(claim.key, JSON.stringify(stored), 'EX', IDEMPOTENCY_TTL_SECONDS);
      } else {
        // Refused or failed: nothing to replay, so a retry with this key runs again.
        await redis.del(claim.key);
      }
    } catch (err) {
      // The answer is already decided; a retry then runs again and intake's deduplication applies.
      request.log.error({ err }, 'could not store the idempotent answer');
    }
    return payload;
  });
}
