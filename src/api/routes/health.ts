// Liveness says the process serves HTTP; readiness says this process can serve: Redis answers.
// An open circuit does NOT make the API unready: taking every API pod out of the Service would
// darken the console, /metrics and the resume route exactly when an operator needs them. The
// circuit is reported here for information (`checks.circuit`), and where it is acted on: GET
// /v1/queues, the console, offboard_circuit_open and the OffboardCircuitOpen alert. Both routes are
// public (probes carry no keys), reveal no configuration and answer whatever the Host (host.ts).
// The circuit's reason text (AADSTS detail, tenant hints) is shown only to a viewer or operator key:
// anonymous callers get the code.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { getCircuit } from '../../control/queue-control.js';
import type { QueueContext } from '../../queue/context.js';
import { PUBLIC } from '../auth/access.js';
import { presentedKey } from '../auth/credentials.js';
import type { ApiDeps } from '../deps.js';

export interface Readiness {
  ready: boolean;
  checks: { redis: 'ok' | 'unreachable'; circuit: 'closed' | 'open' | 'unknown' };
  reason?: string;
  /** The circuit's code alone, safe to show anyone. */
  publicReason?: string;
}

const PING_TIMEOUT_MS = 1500;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function readiness(ctx: QueueContext): Promise<Readiness> {
  // A client that is reconnecting would queue the ping; say "unreachable" at once instead.
  if (ctx.redis.status !== 'ready') {
    return {
      ready: false,
      checks: { redis: 'unreachable', circuit: 'unknown' },
      reason: 'redis unreachable',
    };
  }
  try {
    await withTimeout(ctx.redis.ping(), PING_TIMEOUT_MS);
    // Informational only: the circuit never decides readiness. A slow circuit read is "unknown".
    const circuit = await withTimeout(getCircuit(ctx), PING_TIMEOUT_MS).catch(() => null);
    if (!circuit) return { ready: true, checks: { redis: 'ok', circuit: 'unknown' } };
    if (circuit.open) {
      return {
        ready: true,
        checks: { redis: 'ok', circuit: 'open' },
        reason: `circuit open (${circuit.code ?? 'unknown'}): ${circuit.reason ?? 'no reason recorded'}`,
        publicReason: `circuit open (${circuit.code ?? 'unknown'})`,
      };
    }
    return { ready: true, checks: { redis: 'ok', circuit: 'closed' } };
  } catch {
    return {
      ready: false,
      checks: { redis: 'unreachable', circuit: 'unknown' },
      reason: 'redis unreachable',
    };
  }
}

const readinessSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    checks: {
      type: 'object',
      properties: { redis: { type: 'string' }, circuit: { type: 'string' } },
    },
    reason: { type: 'string' },
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export const healthRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx, keys, authDisabled }) => {
  /** A public route never requires a key, but a viewer's or operator's key unlocks the detail. */
  const mayReadDetail = (request: FastifyRequest): boolean => {
    if (authDisabled) return true;
    const presented = presentedKey(request.headers);
    if (presented.kind !== 'key') return false;
    const role = keys.resolve(presented.key)?.role;
    return role === 'viewer' || role === 'operator';
  };

  app.get(
    '/healthz',
    {
      config: { access: PUBLIC, rateLimit: false },
      logLevel: 'warn',
      schema: {
        summary: 'Liveness',
        tags: ['health'],
        security: [],
        response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { access: PUBLIC, rateLimit: false },
      logLevel: 'warn',
      schema: {
        summary:
          'Readiness: this process can serve (Redis reachable); an open circuit is reported, not failed',
        tags: ['health'],
        security: [],
        response: { 200: readinessSchema, 503: readinessSchema },
      },
    },
    async (request, reply) => {
      const r = await readiness(ctx);
      const reason = mayReadDetail(request) ? r.reason : (r.publicReason ?? r.reason);
      if (r.ready) return { status: 'ready', checks: r.checks, ...(reason ? { reason } : {}) };
      return reply.status(503).send({
        status: 'not_ready',
        checks: r.checks,
        reason,
        error: { code: 'redis_unavailable', message: reason },
      });
    },
  );
};
