// Where the retire action lives for a user, and which base URLs we are willing to send a token to.
import { isLoopbackHost } from '../net/loopback.js';
import { retireRequest, userSegment } from './requests.js';

export { userSegment };

/** The base URL would send a bearer token over plain http to a non-loopback host. */
export class InsecureGraphUrlError extends Error {
  override readonly name = 'InsecureGraphUrlError';
}

/**
 * Parses and checks a Graph base URL: https, or http only to a loopback host.
 * Throws InsecureGraphUrlError (or TypeError for an unparsable URL) otherwise.
 */
export function checkGraphBaseUrl(baseUrl: string): URL {
  const url = new URL(baseUrl);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new InsecureGraphUrlError(
    `refusing to call Graph at ${url.origin}: only https (or http to a loopback host) is allowed`,
  );
}

/** A nextLink (or a URL given by the caller) points away from GRAPH_BASE_URL's origin: not followed. */
export class ForeignGraphUrlError extends Error {
  override readonly name = 'ForeignGraphUrlError';
}

const checked = new Set<string>();

/**
 * checkGraphBaseUrl for a hot path: a base URL that passed once is not parsed again (the worker sends
 * every call to the same one; parsing it per call showed in the worker's CPU profile).
 */
export function checkedBaseUrl(baseUrl: string): void {
  if (checked.has(baseUrl)) return;
  checkGraphBaseUrl(baseUrl);
  if (checked.size < 16) checked.add(baseUrl);
}

/** `users/{user}/removeAllDevicesFromManagement`, relative to GRAPH_BASE_URL. */
export function userActionPath(user: string): string {
  return retireRequest(user).path;
}

/**
 * THE Graph URL builder (only src/graph/call.ts calls it): a path below baseUrl (`users/x/…`, a leading
 * slash is taken below baseUrl's path too, never from the host root), or an absolute URL that must stay
 * on baseUrl's origin (a server-provided nextLink). Throws InsecureGraphUrlError for a base URL that
 * is not https (or http to loopback), ForeignGraphUrlError for another origin.
 */
export function graphUrl(baseUrl: string, pathOrUrl: string): string {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(pathOrUrl)) {
    // The hot path (every retire call): a checked base and a string join, no URL parsing per call.
    checkedBaseUrl(baseUrl);
    return `${baseUrl.replace(/\/+$/, '')}/${pathOrUrl.replace(/^\/+/, '')}`;
  }
  const base = checkGraphBaseUrl(baseUrl);
  const resolved = new URL(pathOrUrl);
  if (resolved.origin !== base.origin) {
    throw new ForeignGraphUrlError(
      `refusing to follow a Graph URL on ${resolved.origin}: only ${base.origin} (GRAPH_BASE_URL) is called`,
    );
  }
  return resolved.href;
}
