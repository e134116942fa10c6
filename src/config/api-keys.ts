// API keys are configured as `name:role:sha256hex[:tenants[:devicePolicies]]` entries; only hashes
// ever reach the process. `tenants` is `t1|t2` (or `*`, or empty: every tenant) and scopes what the key
// sees and acts on (TENANTS_FILE); `devicePolicies` is `p1|p2` (or `*`): the device policy profiles a
// producer may name beside the default one (DEVICE_POLICY_FILE). Names are checked against those
// files by the config loader.

export const ROLES = ['producer', 'viewer', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKeyEntry {
  name: string;
  role: Role;
  /** Lower-case hex SHA-256 of the key. */
  sha256: string;
  /** Tenant slugs this key is limited to; absent = every tenant. */
  tenants?: string[];
  /** Device policy profiles this key may name; absent = only the default one (operators: any). */
  devicePolicies?: string[];
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `a|b` → ['a','b']; `*` or empty → undefined (no limit); a bad name is an issue. */
function nameList(raw: string | undefined, what: string, where: string, issues: string[]) {
  if (raw === undefined || raw === '' || raw === '*') return undefined;
  const names = raw.split('|').map((s) => s.trim());
  for (const n of names) {
    if (!SLUG.test(n)) {
      issues.push(`${where}: ${what} "${n}" must be 1-63 of a-z 0-9 - (starting with a letter or digit)`);
      return null;
    }
  }
  return [...new Set(names)];
}

/** Parses entries separated by commas or newlines; `#` starts a comment line. */
export function parseApiKeys(text: string, source: string, issues: string[]): ApiKeyEntry[] {
  const out: ApiKeyEntry[] = [];
  const seen = new Set<string>();
  const entries = text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'));
  for (const [i, entry] of entries.entries()) {
    const [name, role, hash, tenantField, policyField, ...rest] = entry.split(':');
    const where = `${source} entry ${i + 1}`;
    if (!name || !role || !hash || rest.length > 0) {
      issues.push(`${where}: expected name:role:sha256hex[:tenant1|tenant2[:policy1|policy2]]`);
      continue;
    }
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
      issues.push(`${where}: key name must be 1-64 of A-Z a-z 0-9 . _ -`);
      continue;
    }
    if (!(ROLES as readonly string[]).includes(role)) {
      issues.push(`${where}: role must be one of ${ROLES.join(', ')}`);
      continue;
    }
    if (!/^[0-9a-fA-F]{64}$/.test(hash)) {
      issues.push(`${where}: hash must be 64 hex characters (sha256 of the key)`);
      continue;
    }
    if (seen.has(name)) {
      issues.push(`${where}: duplicate key name "${name}"`);
      continue;
    }
    const tenants = nameList(tenantField, 'tenant', where, issues);
    const devicePolicies = nameList(policyField, 'device policy', where, issues);
    if (tenants === null || devicePolicies === null) continue;
    seen.add(name);
    const key: ApiKeyEntry = { name, role: role as Role, sha256: hash.toLowerCase() };
    if (tenants) key.tenants = tenants;
    if (devicePolicies) key.devicePolicies = devicePolicies;
    // For profiles, absent means "the default only", so `*` must stay visible: any profile.
    else if (policyField?.trim() === '*') key.devicePolicies = ['*'];
    out.push(key);
  }
  return out;
}
