import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { parseDuration, parseRate } from '../../src/config/parse.js';

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.redis.url).toBe('redis://127.0.0.1:6379');
    expect(c.redis.prefix).toBe('offboard');
    expect(c.graph.baseUrl).toBe('https://graph.microsoft.com/v1.0');
    expect(c.graph.rateLimit).toEqual({ limit: 200, windowMs: 20_000 });
    expect(c.auth.mode).toBe('app');
    expect(c.worker.concurrency).toBe(10);
    expect(c.api.port).toBe(8080);
    expect(c.worker.dryRun).toBe(false);
    expect(c.guard).toMatchObject({ threshold: 50, twoPerson: false, ttlMs: 72 * 3_600_000 });
    expect(c.guard).toMatchObject({
      maxHeldBatchesPerKey: 5,
      maxHeldItemsPerKey: 20_000,
      maxHeldItems: 100_000,
    });
    expect(c.api.authFailureLimit).toEqual({ limit: 20, windowMs: 60_000 });
    expect(c.schedule.csvDir).toBeUndefined();
  });

  it('lists every invalid setting in one error', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig(
        {
          REDIS_URL: 'http://nope',
          GRAPH_BASE_URL: 'http://graph.example.com/v1.0',
          AUTH_MODE: 'magic',
          WORKER_CONCURRENCY: 'ten',
          GRAPH_RATE_LIMIT: '200 per minute',
          API_PORT: '70000',
          DRY_RUN: 'maybe',
          GUARD_TTL: 'forever',
          TOKEN_CACHE_KEY: 'short',
          API_KEYS: 'alice:admin:abc',
        },
        { needAuth: true, needApi: true },
      );
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.exitCode).toBe(2);
    const text = error?.message ?? '';
    for (const name of [
      'REDIS_URL',
      'GRAPH_BASE_URL',
      'AUTH_MODE',
      'WORKER_CONCURRENCY',
      'GRAPH_RATE_LIMIT',
      'API_PORT',
      'DRY_RUN',
      'GUARD_TTL',
      'TOKEN_CACHE_KEY',
      'API_KEYS',
      'AZURE_TENANT_ID',
      'AZURE_CLIENT_ID',
    ]) {
      expect(text).toContain(name);
    }
    expect(error?.issues.length).toBeGreaterThanOrEqual(12);
  });

  it('allows http only for loopback Graph hosts', () => {
    expect(loadConfig({ GRAPH_BASE_URL: 'http://127.0.0.1:9999/v1.0' }).graph.baseUrl).toBe(
      'http://127.0.0.1:9999/v1.0',
    );
    expect(() => loadConfig({ GRAPH_BASE_URL: 'http://10.0.0.1/v1.0' })).toThrow(/GRAPH_BASE_URL/);
  });

  it('requires exactly one app credential and a cache key in delegated mode', () => {
    const base = {
      AZURE_TENANT_ID: 'contoso.onmicrosoft.com',
      AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
    };
    expect(() => loadConfig(base, { needAuth: true })).toThrow(/one is required/);
    expect(() =>
      loadConfig({ ...base, AZURE_CLIENT_SECRET: 's', AZURE_FEDERATED_TOKEN_FILE: '/x' }, { needAuth: true }),
    ).toThrow(/only one credential/);
    expect(loadConfig({ ...base, AZURE_CLIENT_SECRET: 's' }, { needAuth: true }).auth.credential).toEqual({
      kind: 'secret',
      secret: 's',
    });
    expect(() => loadConfig({ ...base, AUTH_MODE: 'delegated' }, { needAuth: true })).toThrow(
      /TOKEN_CACHE_KEY/,
    );
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(
      loadConfig({ ...base, AUTH_MODE: 'delegated', TOKEN_CACHE_KEY: key }, { needAuth: true }).auth
        .tokenCacheKey?.length,
    ).toBe(32);
  });

  it('never echoes a secret in its messages', () => {
    try {
      loadConfig({ AZURE_CLIENT_SECRET: 'sup3r-s3cret', AZURE_CLIENT_CERTIFICATE_PATH: '/c.pem' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('sup3r-s3cret');
    }
    try {
      loadConfig({ REDIS_URL: 'http://u:hunter2@h' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('parses cluster URLs and requires a hash-tag prefix there', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001' })).toThrow(
      /hash tag/,
    );
    const c = loadConfig({
      REDIS_URL: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001',
      QUEUE_PREFIX: '{offboard}',
    });
    expect(c.redis.clusterNodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ]);
  });

  it('parses durations and rates', () => {
    expect(parseDuration('72h')).toBe(259_200_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('soon')).toBeNull();
    expect(parseRate('20/2s')).toEqual({ limit: 20, windowMs: 2000 });
    expect(parseRate('0/2s')).toBeNull();
  });
});
