// Graph addresses a user in a path as `users/{id|upn}` or in the key form `users('…')` (a UPN that
// starts with `$`, quotes doubled): one parser for every simulated endpoint under a user.

/** The pattern of `/v1.0/users/{user}/<action>` in both forms. */
export function userPathPattern(action: string): RegExp {
  return new RegExp(`^/v1\\.0/users(?:/([^/()]+)|\\(([^/]+)\\))/${action}/?$`);
}

/** The user a path addresses (lower-cased), or undefined when the path does not match or is malformed. */
export function userFromPath(pattern: RegExp, rawPath: string): string | undefined {
  const m = pattern.exec(rawPath);
  if (!m) return undefined;
  try {
    if (m[1] !== undefined) return decodeURIComponent(m[1]).toLowerCase();
    const key = decodeURIComponent(m[2] ?? '');
    if (key.length < 2 || !key.startsWith("'") || !key.endsWith("'")) return undefined;
    return key.slice(1, -1).replaceAll("''", "'").toLowerCase();
  } catch {
    return undefined;
  }
}
