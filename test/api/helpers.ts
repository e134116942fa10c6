// Shared set-up for the API tests: a private redis-server, one key per role, the real app.
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { type ApiOptions, buildApp } from '../../src/api/app.js';
import { configLine } from '../../src/api/auth/keys.js';
import { type RunningApi, startApi } from '../../src/api/server.js';
import type { Config } from '../../src/config/load.js';
import { type Logger, REDACT_PATHS } from '../../src/log.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

export const KEYS = {
  producer: 'obk_test-producer-key-0123456789abcdefghijklmnopq',
  viewer: 'obk_test-viewer-key-0123456789abcdefghijklmnopqrs',
  operator: 'obk_test-operator-key-0123456789abcdefghijklmnop',
  operator2: 'obk_test-operator2-key-0123456789abcdefghijklmno',
} as const;

export const KEY_NAMES = {
  producer: 'hr-system',
  viewer: 'helpdesk',
  operator: 'ops-alice',
  operator2: 'ops-bob',
};

export function apiKeysEnv(): string {
  return [
    configLine(KEY_NAMES.producer, 'producer', KEYS.producer),
    configLine(KEY_NAMES.viewer, 'viewer', KEYS.viewer),
    configLine(KEY_NAMES.operator, 'operator', KEYS.operator),
    configLine(KEY_NAMES.operator2, 'operator', KEYS.operator2),
  ].join(',');
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** A logger that keeps every line in memory (to assert what was, and was not, logged). */
export function memoryLogger(level = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream);
  return { logger, lines };
}

export interface TestApi {
  redis: TestRedis;
  config: Config;
  ctx: QueueContext;
  app: FastifyInstance;
  close(): Promise<void>;
}

export function apiConfig(redis: TestRedis, env: Record<string, string> = {}): Config {
  return testConfig(
    {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
      API_KEYS: apiKeysEnv(),
      API_PORT: '0',
      API_HOST: '127.0.0.1',
      API_RATE_LIMIT: '1000000',
      GUARD_THRESHOLD: '1000000',
      ...env,
    },
    { needApi: true },
  );
}

/** The app for app.inject(), with a separate context for the test's own Redis reads. */
export async function testApp(env: Record<string, string> = {}, logger?: Logger): Promise<TestApi> {
  const redis = await startRedis();
  const config = apiConfig(redis, env);
  const app = await buildApp(config, { logger: logger ?? memoryLogger('warn').logger });
  await app.ready();
  const ctx = createQueueContext(config);
  return {
    redis,
    config,
    ctx,
    app,
    async close() {
      await app.close();
      await closeQueueContext(ctx);
      await redis.stop();
    },
  };
}

/** The API listening on a real loopback port. */
export async function liveApi(
  redis: TestRedis,
  env: Record<string, string> = {},
  opts: ApiOptions = {},
): Promise<RunningApi> {
  return startApi(apiConfig(redis, env), { logger: memoryLogger('warn').logger, ...opts });
}

export async function pollUntil<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
