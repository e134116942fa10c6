// Small parsers for the human-friendly formats used in the environment ("20s", "200/20s").

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "20s", "15m", "72h", "7d", or a bare number of milliseconds. Returns null when invalid. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return null;
  const value = Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1);
  return Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
}

export interface RateLimit {
  limit: number;
  windowMs: number;
}

/** "200/20s" → 200 calls per 20 000 ms. Returns null when invalid. */
export function parseRate(text: string): RateLimit | null {
  const m = /^\s*(\d+)\s*\/\s*(.+)$/.exec(text);
  if (!m) return null;
  const limit = Number(m[1]);
  const windowMs = parseDuration(m[2] ?? '');
  if (!limit || !windowMs) return null;
  return { limit, windowMs };
}

export function parseBool(text: string): boolean | null {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  return null;
}
