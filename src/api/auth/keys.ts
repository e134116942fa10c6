// API keys: random secrets handed out once; the process only ever holds their SHA-256 digests.
// Lookup hashes the presented key and compares it with every configured digest in constant time,
// so neither the match nor its position leaks through timing.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyEntry, Role } from '../../config/api-keys.js';

export const KEY_PREFIX = 'obk_';
/** Longer presented keys are refused before hashing (a real key is 47 characters). */
export const MAX_KEY_LENGTH = 256;

export interface Principal {
  name: string;
  role: Role;
  /** Tenants the key is limited to (ApiKeyEntry.tenants); absent = every tenant (src/tenants/scope.ts). */
  tenants?: readonly string[];
  /** Device policy profiles a producer key may name beside the default (API_KEYS); `*` = any. */
  devicePolicies?: string[];
}

/** The principal of a configured key (its name, role and scopes; never its hash). */
export function principalOf(e: ApiKeyEntry): Principal {
  return {
    name: e.name,
    role: e.role,
    ...(e.devicePolicies ? { devicePolicies: e.devicePolicies } : {}),
    ...(e.tenants ? { tenants: e.tenants } : {}),
  };
}

export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new key: `obk_` + 32 random bytes in base64url. */
export function generateKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The `name:role:sha256hex` line to add to API_KEYS or API_KEYS_FILE. */
export function configLine(name: string, role: Role, key: string): string {
  return `${name}:${role}:${sha256Hex(key)}`;
}

/** A new key for `name` with its configuration entry (for the demo and `offboard keys new`). */
export function newApiKey(name: string, role: Role): { key: string; entry: ApiKeyEntry; configLine: string } {
  const key = generateKey();
  return { key, entry: { name, role, sha256: sha256Hex(key) }, configLine: configLine(name, role, key) };
}

export interface KeyStore {
  readonly size: number;
  /** The key's owner, or null. Takes the same time whichever entry matches, or none. */
  resolve(presented: string): Principal | null;
}

export function createKeyStore(entries: readonly ApiKeyEntry[]): KeyStore {
  const digests = entries.map((e) => ({
    principal: principalOf(e),
    digest: Buffer.from(e.sha256, 'hex'),
  }));
  return {
    size: digests.length,
    resolve(presented) {
      if (presented.length === 0 || presented.length > MAX_KEY_LENGTH) return null;
      const digest = createHash('sha256').update(presented, 'utf8').digest();
      let found: Principal | null = null;
      // No early exit: every digest is compared on every call.
      for (const d of digests) {
        if (timingSafeEqual(digest, d.digest) && found === null) found = d.principal;
      }
      return found;
    },
  };
}
