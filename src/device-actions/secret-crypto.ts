// Secrets kept with a job's evidence (an Activation Lock bypass code today) are never in Redis in
// clear: AES-256-GCM with EVIDENCE_KEY, a random 12-byte IV per write, the Redis key as additional
// authenticated data (a blob copied under another job or device does not decrypt), a versioned
// envelope and a key fingerprint so "wrong key" is told apart from "damaged". The same envelope as the
// delegated token cache (src/entra/cache-crypto.ts), with errors of its own: those speak of `login`.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

interface Envelope {
  v: 1;
  alg: 'A256GCM';
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

/** A stored secret that this key cannot open: another EVIDENCE_KEY, or altered in Redis. */
export class SecretUnreadableError extends Error {
  override readonly name = 'SecretUnreadableError';
}

function fingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new TypeError('EVIDENCE_KEY must be 32 bytes');
}

export function encryptSecret(plaintext: string, key: Buffer, context: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const envelope: Envelope = {
    v: 1,
    alg: 'A256GCM',
    kid: fingerprint(key),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  };
  return JSON.stringify(envelope);
}

export function decryptSecret(stored: string, key: Buffer, context: string): string {
  checkKey(key);
  let e: Partial<Envelope> | null;
  try {
    e = JSON.parse(stored) as Partial<Envelope>;
  } catch {
    throw new SecretUnreadableError('the stored secret is not an encrypted envelope');
  }
  if (e?.v !== 1 || e.alg !== 'A256GCM' || typeof e.iv !== 'string' || typeof e.tag !== 'string') {
    throw new SecretUnreadableError('the stored secret is not a version 1 envelope');
  }
  if (e.kid !== fingerprint(key)) {
    throw new SecretUnreadableError('the secret was encrypted with a different EVIDENCE_KEY');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(e.iv, 'base64'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(e.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(e.ct ?? '', 'base64')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new SecretUnreadableError(
      'the stored secret failed authentication (altered, or moved to another key)',
    );
  }
}
