// Where MSAL asks for tokens and for which resource. Sovereign clouds and the simulator differ only here.
import type { Config } from '../config/load.js';
import { isLoopbackHost } from '../config/load.js';

/**
 * Hosts MSAL ships instance-discovery metadata for (msal-common AuthorityMetadata). Any other host must be
 * listed in `knownAuthorities`, or MSAL asks login.microsoftonline.com about it before every first token.
 */
export const MICROSOFT_AUTHORITY_HOSTS: ReadonlySet<string> = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
  'login.microsoftonline.de',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login-us.microsoftonline.com',
  'login.sovcloud-identity.fr',
  'login.sovcloud-identity.de',
  'login.sovcloud-identity.sg',
]);

/** Graph's public resource id, used for tokens when Graph is the loopback simulator. */
const PUBLIC_GRAPH_ORIGIN = 'https://graph.microsoft.com';

export const PRIVILEGED_OPERATIONS_PERMISSION = 'DeviceManagementManagedDevices.PrivilegedOperations.All';

export interface AuthorityOptions {
  /** `${authorityHost}/${tenantId}` */
  authority: string;
  /** `[host]` for a host MSAL does not know; empty for Microsoft's own hosts. */
  knownAuthorities: string[];
}

export function authorityOptions(auth: Config['auth']): AuthorityOptions {
  if (!auth.tenantId) throw new Error('AZURE_TENANT_ID is required to acquire tokens');
  const url = new URL(auth.authorityHost);
  const authority = `${url.origin}/${encodeURIComponent(auth.tenantId)}`;
  // MSAL compares knownAuthorities with "host[:port]" of the authority URL.
  const knownAuthorities = MICROSOFT_AUTHORITY_HOSTS.has(url.hostname.toLowerCase()) ? [] : [url.host];
  return { authority, knownAuthorities };
}

/**
 * The resource the token is for: the origin of GRAPH_BASE_URL (graph.microsoft.com, graph.microsoft.us,
 * microsoftgraph.chinacloudapi.cn, …); a loopback simulator stands in for public Graph.
 */
export function graphOrigin(graphBaseUrl: string): string {
  const url = new URL(graphBaseUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isLoopbackHost(url.hostname) || isLoopbackHost(host)) return PUBLIC_GRAPH_ORIGIN;
  return url.origin;
}

/** Client-credentials scope: every application permission granted to the app. */
export function appScopes(config: Config): string[] {
  return [`${graphOrigin(config.graph.baseUrl)}/.default`];
}

/** Delegated scopes: the one permission the worker needs, plus a refresh token for unattended use. */
export function delegatedScopes(config: Config): string[] {
  return [`${graphOrigin(config.graph.baseUrl)}/${PRIVILEGED_OPERATIONS_PERMISSION}`, 'offline_access'];
}
