// The API's request budget in the IETF form (draft-ietf-httpapi-ratelimit-headers, structured
// fields): `RateLimit-Policy: "api";q=<quota>;w=<window s>` and `RateLimit: "api";r=<remaining>;t=<s>`,
// next to the x-ratelimit-* headers @fastify/rate-limit sends (kept for existing clients).
import type { FastifyInstance } from 'fastify';

/** The policy's name in both fields; a client matches the two on it. */
export const RATE_LIMIT_POLICY = 'api';

export interface RateLimitState {
  quota: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
}

export function rateLimitFields(s: RateLimitState): { 'ratelimit-policy': string; ratelimit: string } {
  const name = JSON.stringify(RATE_LIMIT_POLICY);
  return {
    'ratelimit-policy': `${name};q=${s.quota};w=${s.windowSeconds}`,
    ratelimit: `${name};r=${Math.max(0, s.remaining)};t=${Math.max(0, s.resetSeconds)}`,
  };
}

const int = (v: unknown): number | undefined => {
  const n = Number(Array.isArray(v) ? v[0] : v);
  return v !== undefined && Number.isInteger(n) ? n : undefined;
};

/** Derives the IETF fields from what the rate limiter set on this reply (routes it skips get none). */
export function registerRateLimitFields(app: FastifyInstance, windowSeconds: number): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    const quota = int(reply.getHeader('x-ratelimit-limit'));
    const remaining = int(reply.getHeader('x-ratelimit-remaining'));
    const reset = int(reply.getHeader('x-ratelimit-reset'));
    if (quota === undefined || remaining === undefined || reset === undefined) return payload;
    reply.headers(rateLimitFields({ quota, windowSeconds, remaining, resetSeconds: reset }));
    return payload;
  });
}
