// The environment schema (src/config/schema.ts) through loadConfig: cluster URLs with IPv6 nodes and a
// stray `%` in the password, one message per problem naming its variable, defaults for empty values.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { redisCredentials } from '../../src/config/redis-url.js';

function problems(env: Record<string, string>, opts = {}): string[] {
  try {
    loadConfig(env, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    return (err as ConfigError).issues;
  }
  return [];
}

describe('Redis Cluster settings', () => {
  it('reads IPv6 nodes in brackets and keeps a stray % in the password', () => {
    const c = loadConfig({
      REDIS_URL: 'redis+cluster://:50%off@[::1]:7000,[::1]:7001',
      QUEUE_PREFIX: '{offboard}',
    });
    expect(c.redis.clusterNodes).toEqual([
      { host: '::1', port: 7000 },
      { host: '::1', port: 7001 },
    ]);
    expect(redisCredentials(c.redis.url)).toEqual({ password: '50%off' });
  });

  it('REDIS_CLUSTER_NODES takes IPv6 nodes too, with the credentials from REDIS_URL', () => {
    const c = loadConfig({
      REDIS_URL: 'redis://:p%zz@127.0.0.1:6379',
      REDIS_CLUSTER_NODES: '[::1]:7000, [fd00::7]:7001',
      QUEUE_PREFIX: '{offboard}',
    });
    expect(c.redis.clusterNodes).toEqual([
      { host: '::1', port: 7000 },
      { host: 'fd00::7', port: 7001 },
    ]);
    expect(redisCredentials(c.redis.url).password).toBe('p%zz');
  });

  it('an IPv6 node without brackets is refused with the form to use; no second message about the prefix', () => {
    expect(problems({ REDIS_URL: 'redis+cluster://::1:7000,::1:7001' })).toEqual([
      expect.stringMatching(/^REDIS_URL: .*\[::1\]:6379/),
    ]);
    expect(problems({ REDIS_CLUSTER_NODES: '::1:7000' })).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES: .*\[::1\]:6379/),
    ]);
  });
});

describe('problems', () => {
  it('one line per problem, each naming its variable, rules across variables included', () => {
    const issues = problems(
      {
        WORKER_CONCURRENCY: '0',
        RETRY_BASE: 'soon',
        CIRCUIT_FORBIDDEN_SHARE: '2',
        LOG_LEVEL: 'loud',
        API_AUTH: 'maybe',
        SCHEDULE_CSV_DIR: 'relative/dir',
        WORKER_STALLED_INTERVAL: '10ms',
      },
      { needAuth: true },
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'WORKER_CONCURRENCY: must be a whole number from 1 to 1000 (got "0")',
        'RETRY_BASE: must be a duration like 500ms, 20s, 15m, 72h, 7d (got "soon")',
        'CIRCUIT_FORBIDDEN_SHARE: must be a number above 0 and at most 1, such as 0.5 (got "2")',
        'LOG_LEVEL: must be fatal, error, warn, info, debug, trace or silent (got "loud")',
        'API_AUTH: must be enabled or disabled (got "maybe")',
        'SCHEDULE_CSV_DIR: must be an absolute directory path (got "relative/dir")',
        'WORKER_STALLED_INTERVAL: must be at least 100ms',
        'AZURE_TENANT_ID: required',
        'AZURE_CLIENT_ID: required',
      ]),
    );
    for (const line of issues) expect(line).toMatch(/^[A-Z][A-Z0-9_]+[:,= ]/);
    expect(issues).toHaveLength(10); // the nine above and the missing app credential
  });

  it('an empty variable means its default', () => {
    const c = loadConfig({ WORKER_CONCURRENCY: '', GRAPH_RATE_LIMIT: '', LOG_LEVEL: '' });
    expect(c.worker.concurrency).toBe(10);
    expect(c.graph.rateLimit).toEqual({ limit: 200, windowMs: 20_000 });
    expect(c.logLevel).toBe('info');
  });

  it('never echoes secrets or identifiers it refuses', () => {
    const text = problems({
      TOKEN_CACHE_KEY: 'not-a-key-but-secret',
      AZURE_TENANT_ID: 'tenant with spaces',
      AZURE_CLIENT_SECRET: 'sup3r-s3cret',
      AZURE_FEDERATED_TOKEN_FILE: '/var/run/token',
    }).join('\n');
    expect(text).toContain('TOKEN_CACHE_KEY');
    expect(text).toContain('set only one credential');
    for (const secret of ['not-a-key-but-secret', 'tenant with spaces', 'sup3r-s3cret']) {
      expect(text).not.toContain(secret);
    }
  });

  it('the api needs keys unless auth is disabled, and disabled auth only on loopback', () => {
    expect(problems({}, { needApi: true })).toEqual([expect.stringMatching(/^API_KEYS or API_KEYS_FILE: /)]);
    expect(problems({ API_AUTH: 'disabled', API_HOST: '0.0.0.0' }, { needApi: true })).toEqual([
      expect.stringMatching(/^API_AUTH=disabled: only allowed when API_HOST is a loopback/),
    ]);
    expect(loadConfig({ API_AUTH: 'disabled', API_HOST: '[::1]' }, { needApi: true }).api.authDisabled).toBe(
      true,
    );
  });
});

describe('WEBHOOK_SECRET in the Standard Webhooks form', () => {
  const base = { WEBHOOK_URLS: 'https://hooks.example.com/offboard' };
  it('takes whsec_ + base64 of 16 bytes or more, and refuses whsec_ values that are not', () => {
    const good = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(loadConfig({ ...base, WEBHOOK_SECRET: good }).webhooks.secret).toBe(good);
    for (const bad of [
      'whsec_not*base64-at-all!!',
      `whsec_${Buffer.alloc(8, 1).toString('base64')}xx`,
      `whsec_${Buffer.alloc(12, 1).toString('base64')}`,
    ]) {
      const found = problems({ ...base, WEBHOOK_SECRET: bad });
      expect(found).toEqual([expect.stringMatching(/^WEBHOOK_SECRET: whsec_ secrets must be base64/)]);
      expect(found.join(' ')).not.toContain(bad);
    }
    // Any other secret of 16+ characters is still used as it is.
    expect(problems({ ...base, WEBHOOK_SECRET: 'plain-secret-0123456789' })).toEqual([]);
  });
});
