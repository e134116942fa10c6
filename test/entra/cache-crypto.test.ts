import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptCache, encryptCache, keyFingerprint } from '../../src/entra/cache-crypto.js';
import { TokenAcquisitionError } from '../../src/entra/errors.js';

const key = randomBytes(32);
const ctx = 'offboard:offboard:token-cache:client-1';
const plaintext = JSON.stringify({ RefreshToken: { x: { secret: 'rt-very-secret-value' } } });

function unreadable(fn: () => unknown): TokenAcquisitionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TokenAcquisitionError);
    const e = err as TokenAcquisitionError;
    expect(e.code).toBe('token_cache_unreadable');
    expect(e.transient).toBe(false);
    return e;
  }
  throw new Error('expected token_cache_unreadable');
}

describe('token cache encryption', () => {
  it('round-trips and hides the plaintext', () => {
    const env = encryptCache(plaintext, key, ctx);
    expect(env).not.toContain('rt-very-secret-value');
    expect(Buffer.from(JSON.parse(env).ct, 'base64').toString('utf8')).not.toContain('rt-very-secret');
    expect(JSON.parse(env)).toMatchObject({ v: 1, alg: 'A256GCM', kid: keyFingerprint(key) });
    expect(decryptCache(env, key, ctx)).toBe(plaintext);
  });

  it('uses a fresh 12-byte IV for every write', () => {
    const a = JSON.parse(encryptCache(plaintext, key, ctx));
    const b = JSON.parse(encryptCache(plaintext, key, ctx));
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('a wrong key is a clear token_cache_unreadable error', () => {
    const env = encryptCache(plaintext, key, ctx);
    const e = unreadable(() => decryptCache(env, randomBytes(32), ctx));
    expect(e.message).toMatch(/different TOKEN_CACHE_KEY/);
  });

  it('tampering, another key name, garbage and unknown versions are unreadable, never a crash', () => {
    const env = JSON.parse(encryptCache(plaintext, key, ctx));
    const ct = Buffer.from(env.ct, 'base64');
    ct[0] = (ct[0] ?? 0) ^ 1;
    unreadable(() => decryptCache(JSON.stringify({ ...env, ct: ct.toString('base64') }), key, ctx));
    unreadable(() => decryptCache(JSON.stringify(env), key, `${ctx}-other`));
    unreadable(() => decryptCache('not json', key, ctx));
    unreadable(() => decryptCache(plaintext, key, ctx));
    unreadable(() => decryptCache(JSON.stringify({ ...env, v: 2 }), key, ctx));
    unreadable(() => decryptCache(JSON.stringify({ ...env, iv: 'AAAA' }), key, ctx));
  });
});
