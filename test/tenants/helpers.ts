// Shared set-up for the tenant-scope tests: three tenants, keys scoped to one of them beside the
// usual unscoped ones, the real app on a private redis-server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { configLine } from '../../src/api/auth/keys.js';
import type { Config } from '../../src/config/load.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import type { TenantConfig } from '../../src/tenants/types.js';
import { apiKeysEnv, memoryLogger } from '../api/helpers.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

export const TENANTS: TenantConfig[] = [
  { name: 'contoso', id: '11111111-2222-3333-4444-555555555555' },
  { name: 'fabrikam', id: '22222222-2222-3333-4444-555555555555' },
  { name: 'northwind', id: '33333333-2222-3333-4444-555555555555' },
];

export const SCOPED = {
  opContoso: 'obk_test-op-contoso-key-0123456789abcdefghijklmnop',
  viewContoso: 'obk_test-view-contoso-key-0123456789abcdefghijklmn',
  prodContoso: 'obk_test-prod-contoso-key-0123456789abcdefghijklmn',
  opTwo: 'obk_test-op-two-key-0123456789abcdefghijklmnopqrstu',
} as const;

export function scopedKeysEnv(): string {
  return [
    apiKeysEnv(),
    `${configLine('op-contoso', 'operator', SCOPED.opContoso)}:contoso`,
    `${configLine('view-contoso', 'viewer', SCOPED.viewContoso)}:contoso`,
    `${configLine('prod-contoso', 'producer', SCOPED.prodContoso)}:contoso`,
    `${configLine('op-two', 'operator', SCOPED.opTwo)}:contoso|northwind`,
  ].join(',');
}

/** A real TENANTS_FILE (JSON) for these tenants, as the loader reads it. */
export function tenantsFileEnv(tenants: TenantConfig[]): { TENANTS_FILE: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'tenants-')), 'tenants.json');
  const entry = (t: TenantConfig) => ({
    name: t.name,
    id: t.id,
    ...(t.guard ? { guard: t.guard } : {}),
    ...(t.devicePolicy ? { devicePolicy: t.devicePolicy } : {}),
  });
  writeFileSync(path, JSON.stringify({ tenants: tenants.map(entry) }));
  return { TENANTS_FILE: path };
}

export interface TenantApi {
  redis: TestRedis;
  config: Config;
  ctx: QueueContext;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The app with `tenants` set on the config (as TENANTS_FILE would), or none (null). */
export async function tenantApp(
  tenants: TenantConfig[] | null = TENANTS,
  env: Record<string, string> = {},
): Promise<TenantApi> {
  const redis = await startRedis();
  const config = testConfig(
    {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
      // Scoped keys need a tenants file (the loader refuses them without one).
      // (The scoped keys name contoso and northwind: only with the full three-tenant file.)
      API_KEYS: tenants && tenants.length === TENANTS.length ? scopedKeysEnv() : apiKeysEnv(),
      ...(tenants ? tenantsFileEnv(tenants) : {}),
      API_PORT: '0',
      API_HOST: '127.0.0.1',
      API_RATE_LIMIT: '1000000',
      API_AUTH_FAILURE_LIMIT: '1000000/1m',
      GUARD_THRESHOLD: '1000000',
      ...env,
    },
    { needApi: true },
  );
  const app = await buildApp(config, { logger: memoryLogger('warn').logger });
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
