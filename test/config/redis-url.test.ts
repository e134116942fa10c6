// REDIS_URL / REDIS_CLUSTER_NODES reading: IPv6 cluster nodes, user-info with odd characters
// (a stray `%`, an unencoded `@`), and redaction for logs.
import { describe, expect, it } from 'vitest';
import { clusterNodesOf, parseNodeList, redact, redisCredentials } from '../../src/config/redis-url.js';

describe('cluster node lists', () => {
  it('reads host:port, bracketed IPv6 and the default port', () => {
    expect(parseNodeList('[::1]:6379,[::1]:6380')).toEqual([
      { host: '::1', port: 6379 },
      { host: '::1', port: 6380 },
    ]);
    expect(parseNodeList('redis-0.redis:7000, 10.0.0.7 ,[fd00::7]')).toEqual([
      { host: 'redis-0.redis', port: 7000 },
      { host: '10.0.0.7', port: 6379 },
      { host: 'fd00::7', port: 6379 },
    ]);
    expect(clusterNodesOf('redis+cluster://:pw@[::1]:7000,[::1]:7001/0')).toEqual([
      { host: '::1', port: 7000 },
      { host: '::1', port: 7001 },
    ]);
  });

  it('refuses unbracketed IPv6, bad ports and empty entries', () => {
    for (const bad of ['::1:6379', '[::1]:99999', 'h1:0', 'h1:6379,', '', 'h1:port', '[::1']) {
      expect(parseNodeList(bad), bad).toBeNull();
    }
  });
});

describe('credentials', () => {
  it('keeps a stray % in a password instead of throwing', () => {
    expect(redisCredentials('redis+cluster://:50%off@h1:6379,h2:6379')).toEqual({ password: '50%off' });
    expect(redisCredentials('redis+cluster://app:100%@h1:6379')).toEqual({
      username: 'app',
      password: '100%',
    });
    // Valid escapes are still decoded, multi-byte ones included.
    expect(redisCredentials('rediss+cluster://app%40ops:p%3Aw%2Fd%C3%A9%@h1:6379')).toEqual({
      username: 'app@ops',
      password: 'p:w/dé%',
    });
  });

  it('reads a password with an unencoded @ (split at the last @)', () => {
    expect(redisCredentials('redis+cluster://:p@ss@[::1]:7000')).toEqual({ password: 'p@ss' });
    expect(clusterNodesOf('redis+cluster://:p@ss@[::1]:7000')).toEqual([{ host: '::1', port: 7000 }]);
  });

  it('no user-info: no credentials', () => {
    expect(redisCredentials('redis+cluster://h1:6379,h2:6379')).toEqual({});
    expect(redisCredentials('redis://:pw@host:6379')).toEqual({ password: 'pw' });
  });
});

describe('redact', () => {
  it('hides the whole password, odd characters included', () => {
    expect(redact('redis://u:hunter2@h:6379')).toBe('redis://u:***@h:6379');
    expect(redact('redis+cluster://:p@ss/w%rd@h1:1,h2:2')).toBe('redis+cluster://:***@h1:1,h2:2');
    expect(redact('redis://h:6379')).toBe('redis://h:6379');
  });
});
