// API keys are configured as `name:role:sha256hex` entries; only hashes ever reach the process.

export const ROLES = ['producer', 'viewer', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKeyEntry {
  name: string;
  role: Role;
  /** Lower-case hex SHA-256 of the key. */
  sha256: string;
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
    const [name, role, hash, ...rest] = entry.split(':');
    const where = `${source} entry ${i + 1}`;
    if (!name || !role || !hash || rest.length > 0) {
      issues.push(`${where}: expected name:role:sha256hex`);
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
    seen.add(name);
    out.push({ name, role: role as Role, sha256: hash.toLowerCase() });
  }
  return out;
}
