// The delegated token cache holds a refresh token that can act as the operator for weeks: it is never
// stored in Redis in clear. AES-256-GCM, random 12-byte IV per write, the Redis key as additional
// authenticated data (a blob copied under another key does not decrypt), a versioned envelope so the
// format can change, and a key fingerprint so "wrong key" is told apart from "damaged".
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { TokenAcquisitionError } from './errors.js';

const VERSION = 1;
const ALG = 'A256GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

interface EnvelopeV1 {
  v: 1;
  alg: typeof ALG;
  /** First 8 bytes of SHA-256(key), hex: identifies the key without revealing it. */
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

export class TokenCacheUnreadableError extends TokenAcquisitionError {
  constructor(message: string) {
    super(message, 'token_cache_unreadable', false);
  }
}

export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new TypeError('TOKEN_CACHE_KEY must be 32 bytes');
}

/** Encrypts the serialized MSAL cache; `context` (the Redis key) is bound as additional data. */
export function encryptCache(plaintext: string, key: Buffer, context: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const envelope: EnvelopeV1 = {
    v: VERSION,
    alg: ALG,
    kid: keyFingerprint(key),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  };
  return JSON.stringify(envelope);
}

/** Decrypts an envelope; any problem is a TokenCacheUnreadableError (code `token_cache_unreadable`). */
export function decryptCache(stored: string, key: Buffer, context: string): string {
  checkKey(key);
  const envelope = parseEnvelope(stored);
  if (envelope.kid !== keyFingerprint(key)) {
    throw new TokenCacheUnreadableError(
      'the token cache in Redis was encrypted with a different TOKEN_CACHE_KEY: use the key it was written with, or run `offboard login` again',
    );
  }
  const iv = Buffer.from(envelope.iv, 'base64');
  const tag = Buffer.from(envelope.tag, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new TokenCacheUnreadableError(
      'the token cache in Redis is damaged (bad IV or tag): run `offboard login` again',
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(envelope.ct, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new TokenCacheUnreadableError(
      'the token cache in Redis failed authentication (altered, or stored under another key): run `offboard login` again',
    );
  }
}

function parseEnvelope(stored: string): EnvelopeV1 {
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    throw new TokenCacheUnreadableError(
      'the token cache in Redis is not an encrypted envelope: run `offboard login` again',
    );
  }
  const e = value as Partial<EnvelopeV1> | null;
  if (!e || typeof e !== 'object' || typeof e.v !== 'number') {
    throw new TokenCacheUnreadableError(
      'the token cache in Redis is not an encrypted envelope: run `offboard login` again',
    );
  }
  if (e.v !== VERSION || e.alg !== ALG) {
    throw new TokenCacheUnreadableError(
      `the token cache in Redis uses envelope version ${String(e.v)} (${String(e.alg)}), this build reads version ${VERSION}`,
    );
  }
  if (
    typeof e.kid !== 'string' ||
    typeof e.iv !== 'string' ||
    typeof e.tag !== 'string' ||
    typeof e.ct !== 'string'
  ) {
    throw new TokenCacheUnreadableError(
      'the token cache in Redis is damaged (missing fields): run `offboard login` again',
    );
  }
  return e as EnvelopeV1;
}
