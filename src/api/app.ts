// Builds the HTTP API: one Fastify instance made of small plugins (one per route group), with
// auth, rate limiting, security headers, JSON errors and the OpenAPI document around them.
// The API process reads and writes Redis; it calls Graph only for GET /v1/preflight (operators, GETs only).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { ConfigError } from '../config/errors.js';
import { type Config, isLoopbackHost } from '../config/load.js';
import { createLogger, type Logger } from '../log.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../queue/context.js';
import { ownKey } from '../queue/names.js';
import { VERSION } from '../version.js';
import { actorOf } from './auth/access.js';
import { createAuthFailureLimiter } from './auth/failures.js';
import { registerHostAllowlist } from './auth/host.js';
import { createKeyStore } from './auth/keys.js';
import { registerAuth } from './auth/plugin.js';
import { consoleRoutes } from './console/plugin.js';
import type { ApiDeps } from './deps.js';
import { ApiError, errorHandler, REDIS_UNAVAILABLE, redisDown, sendProblem, toHttpError } from './errors.js';
import { registerIdempotency } from './idempotency.js';
import { registerFleetMetrics } from './metrics/fleet.js';
import { createApiMetrics } from './metrics/http.js';
import { registerOnCallMetrics } from './metrics/on-call.js';
import { registerTenantMetrics } from './metrics/tenants.js';
import { registerRateLimitFields } from './rate-limit-headers.js';
import { batchRoutes } from './routes/batches.js';
import { type BoardRoute, dashboardRoutes } from './routes/dashboard.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { docsRoutes, registerOpenApi } from './routes/docs.js';
import { evidenceRoutes } from './routes/evidence.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { offboardingRoutes } from './routes/offboardings.js';
import { createPreflightRunner, preflightRoutes } from './routes/preflight.js';
import { queueRoutes } from './routes/queues.js';
import { secretRoutes } from './routes/secrets.js';
import { statusPageRoutes } from './routes/status-page.js';
import { tenantRoutes } from './routes/tenants.js';
import { validatorCompiler } from './validation.js';

export interface ApiOptions {
  /** Default: a pino logger at config.logLevel with secrets redacted (log.ts). */
  logger?: Logger;
  /** Default: a fail-fast context created here and closed with the app. A given one is not closed. */
  ctx?: QueueContext;
  /** Longest a request may take before it answers 503 `timeout` (a stalled Redis). Default 30 s. */
  handlerTimeoutMs?: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const HANDLER_TIMEOUT_MS = 30_000;
/** API_RATE_LIMIT is per minute. */
const RATE_WINDOW_MS = 60_000;

/** JSON answers need no resources at all: the strictest policy. */
const API_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
};

/** A caller's x-request-id is kept when it is a plain token; otherwise a new UUID. */
function genReqId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export async function buildApp(config: Config, opts: ApiOptions = {}): Promise<FastifyInstance> {
  if (!config.api.authDisabled && config.api.keys.length === 0) {
    throw new ConfigError([
      'API_KEYS or API_KEYS_FILE: at least one key is required (or set API_AUTH=disabled explicitly)',
    ]);
  }
  if (config.api.authDisabled && !isLoopbackHost(config.api.host.replace(/^\[(.*)\]$/, '$1'))) {
    throw new ConfigError([
      `API_AUTH=disabled: only allowed when API_HOST is a loopback address (127.0.0.1, ::1, localhost) (got "${config.api.host}")`,
    ]);
  }
  const logger = opts.logger ?? createLogger({ level: config.logLevel, name: 'offboard-api' });
  const ctx = opts.ctx ?? createQueueContext(config, { name: 'offboard-api' });
  try {
    return await assemble(config, opts, logger, ctx);
  } catch (err) {
    if (!opts.ctx) await closeQueueContext(ctx);
    throw err;
  }
}

async function assemble(
  config: Config,
  opts: ApiOptions,
  logger: Logger,
  ctx: QueueContext,
): Promise<FastifyInstance> {
  const metrics = createApiMetrics(VERSION);
  registerFleetMetrics(metrics.registry, ctx);
  registerOnCallMetrics(metrics.registry, ctx);
  registerTenantMetrics(metrics.registry, ctx);
  const deps: ApiDeps = {
    ctx,
    config,
    metrics,
    keys: createKeyStore(config.api.keys),
    authDisabled: config.api.authDisabled,
  };

  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps FastifyInstance's default generics.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.api.bodyLimitBytes,
    genReqId,
    requestIdHeader: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestTimeout: 120_000,
    // Never hang on a Redis that stopped answering; big batch approvals get longer (batches.ts).
    handlerTimeout: opts.handlerTimeoutMs ?? HANDLER_TIMEOUT_MS,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 256 },
    // X-Forwarded-For names the client only when the peer is one of API_TRUSTED_PROXIES; otherwise
    // request.ip is the socket's address (what the failed-auth and request limits count by).
    trustProxy: config.api.trustedProxies.length > 0 ? [...config.api.trustedProxies] : false,
    // Errors raised before routing (bad URL encoding, over-long path parameters) in our shape too.
    frameworkErrors: (error, request, reply: FastifyReply) => {
      const e = toHttpError(error);
      reply.header('x-content-type-options', 'nosniff').header('x-request-id', request.id);
      return sendProblem(reply, request, e);
    },
  });
  if (config.api.authDisabled) {
    app.log.warn('API_AUTH=disabled: every caller is accepted as "anonymous" with every role');
  }
  app.setValidatorCompiler(validatorCompiler());
  app.setErrorHandler(errorHandler(ctx.redis));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, { status: 404, code: 'not_found', message: 'no such route' }),
  );

  await app.register(helmet, { global: true, contentSecurityPolicy: API_CSP });
  // Before auth and everything else: a rebinding page must learn nothing, in every auth mode.
  registerHostAllowlist(app, { publicHosts: config.api.publicHosts });
  await registerOpenApi(app, VERSION);
  registerAuth(app, {
    keys: deps.keys,
    disabled: deps.authDisabled,
    failures: createAuthFailureLimiter(
      ctx.redis,
      ownKey(ctx.prefix, 'auth-failures'),
      config.api.authFailureLimit,
    ),
  });
  // After auth (no state leaks to strangers), before the rate limiter (which itself uses Redis).
  app.addHook('onRequest', async (request, reply) => {
    const { access, redisOptional } = request.routeOptions.config;
    if (!access || 'public' in access || redisOptional || !redisDown(ctx.redis)) return;
    return sendProblem(reply.header('retry-after', '5'), request, REDIS_UNAVAILABLE);
  });
  await app.register(rateLimit, {
    global: true,
    max: config.api.rateLimitPerMinute,
    timeWindow: RATE_WINDOW_MS,
    // Shared by every API replica through Redis; when Redis is down the limiter steps aside and
    // the route itself answers 503.
    redis: ctx.redis,
    nameSpace: `${ownKey(ctx.prefix, 'ratelimit')}:`,
    skipOnError: true,
    // Route-level onRequest hooks run after the auth hook, so the principal is known here.
    keyGenerator: (request) => (request.principal ? `key:${actorOf(request)}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      new ApiError(429, 'rate_limited', `rate limit exceeded, retry in ${context.after}`, {
        limitPerMinute: context.max,
      }),
  });

  registerRateLimitFields(app, RATE_WINDOW_MS / 1000);
  registerIdempotency(app, ctx.redis, ctx.prefix);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: reply.statusCode });
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  // Action routes take an optional body: a request without one is validated as `{}`.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body) request.body = {};
  });

  await app.register(healthRoutes, deps);
  await app.register(offboardingRoutes, deps);
  await app.register(queueRoutes, deps);
  await app.register(tenantRoutes, deps);
  await app.register(deadLetterRoutes, deps);
  await app.register(batchRoutes, deps);
  await app.register(evidenceRoutes, deps);
  await app.register(secretRoutes, deps);
  await app.register(metricsRoutes, deps);
  app.decorate('preflight', createPreflightRunner(ctx, logger));
  await app.register(preflightRoutes, deps);
  await app.register(statusPageRoutes, deps);
  await app.register(consoleRoutes, deps);
  app.decorate('dashboardRoutes', [] as BoardRoute[]);
  await app.register(dashboardRoutes, deps);
  await app.register(docsRoutes);

  if (!opts.ctx) app.addHook('onClose', async () => closeQueueContext(ctx));
  return app;
}
