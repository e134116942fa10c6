// Where a request carries its API key: `Authorization: Bearer <key>`, `X-API-Key: <key>`, or
// HTTP Basic with the key as password (browsers: dashboard and status page). Never the query string.
import type { IncomingHttpHeaders } from 'node:http';
import { MAX_KEY_LENGTH } from './keys.js';

export type Presented =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'key'; key: string; scheme: 'bearer' | 'basic' | 'x-api-key' };

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function presentedKey(headers: IncomingHttpHeaders): Presented {
  const auth = single(headers.authorization);
  if (auth !== undefined) {
    if (auth.length > MAX_KEY_LENGTH * 2) return { kind: 'malformed' };
    const space = auth.indexOf(' ');
    const scheme = (space < 0 ? auth : auth.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : auth.slice(space + 1).trim();
    if (scheme === 'bearer' && value) return { kind: 'key', key: value, scheme: 'bearer' };
    if (scheme === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { kind: 'malformed' };
      const key = decoded.slice(colon + 1);
      return key ? { kind: 'key', key, scheme: 'basic' } : { kind: 'malformed' };
    }
    return { kind: 'malformed' };
  }
  const apiKey = single(headers['x-api-key']);
  if (apiKey !== undefined) {
    return apiKey ? { kind: 'key', key: apiKey.trim(), scheme: 'x-api-key' } : { kind: 'malformed' };
  }
  return { kind: 'none' };
}
