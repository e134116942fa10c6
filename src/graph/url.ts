// Where the retire action lives for a user, and which base URLs we are willing to send a token to.
import { retireRequest } from './requests.js';

/** The base URL would send a bearer token over plain http to a non-loopback host. */
export class InsecureGraphUrlError extends Error {
  override readonly name = 'InsecureGraphUrlError';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for hosts that never leave the machine: plain http is acceptable there (tests, the simulator). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
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

/**
 * `{base}/users/{user}/removeAllDevicesFromManagement` (requests.ts builds the path; a UPN starting with
 * `$` takes the key form `/users('…')`, or Graph would read it as an OData segment such as `$count`).
 */
export function userActionUrl(baseUrl: string, user: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${retireRequest(user).path}`;
}
