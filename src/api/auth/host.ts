// DNS rebinding defence: a page on attacker.example whose name is re-pointed at 127.0.0.1 (or at
// the ingress) reaches the API from the victim's browser as a same-origin caller, so Origin and
// Sec-Fetch-Site look innocent. What it cannot change is the Host header: it names the attacker's
// domain. So every request must name an allowed host: the loopback names, API_PUBLIC_HOSTS, or an
// IP address of this machine's own interfaces (kubelet probes and Prometheus scrape the pod IP;
// rebinding needs a name, and a page served from the API's own IP is the API itself).
// This runs first, in every auth mode (API_AUTH=disabled included), on every route except the
// probes below.
import { networkInterfaces } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { normaliseHostName } from '../../config/net-fields.js';
import { errorBody } from '../errors.js';

export interface HostAllowlistOptions {
  /** Extra names (API_PUBLIC_HOSTS), already normalised: lower case, no port, IPv6 in brackets. */
  publicHosts: readonly string[];
  /**
   * Paths answered whatever the Host. Default: /healthz and /readyz, because kubelet's httpGet probes
   * send the pod IP as Host; they are public and read-only, so a rebinding page gains nothing there.
   */
  exempt?: readonly string[];
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const PROBES = ['/healthz', '/readyz'];

/** The host part of a Host header (port dropped), normalised; null when it is not a host name. */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!m?.[1]) return null;
  return normaliseHostName(m[1]);
}

/** This machine's interface addresses as hostOf() writes them (IPv6 in brackets, no zone). */
export function ownAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const name = normaliseHostName(a.family === 'IPv6' ? `[${a.address.split('%')[0]}]` : a.address);
      if (name) out.push(name);
    }
  }
  return out;
}

/** The allowlist as a predicate: true when the request's Host names this API. */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  const host = hostOf(header);
  return host !== null && allowed.has(host);
}

function pathOf(request: FastifyRequest): string {
  const url = request.url;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Registers the check as the first onRequest hook. The raw Host header is checked, not
 * X-Forwarded-Host: a proxy in front must pass the public name through as Host (ingress-nginx and
 * most ingresses do), so a forged X-Forwarded-Host cannot widen the list.
 */
export function registerHostAllowlist(app: FastifyInstance, opts: HostAllowlistOptions): void {
  const exempt = new Set(opts.exempt ?? PROBES);
  // Read once: a pod's or container's addresses do not change while it runs.
  const allowed = new Set([...LOOPBACK_NAMES, ...ownAddresses(), ...opts.publicHosts]);
  app.addHook('onRequest', async (request, reply) => {
    if (hostAllowed(request.headers.host, allowed)) return;
    if (exempt.has(pathOf(request)) && (request.method === 'GET' || request.method === 'HEAD')) return;
    request.log.warn(
      { host: String(request.headers.host ?? '').slice(0, 100) },
      'request refused: Host not allowed',
    );
    return reply
      .status(421)
      .header('cache-control', 'no-store')
      .send(
        errorBody({
          status: 421,
          code: 'host_not_allowed',
          message:
            'this API does not answer to that Host name; add it to API_PUBLIC_HOSTS if it is a name of this deployment',
        }),
      );
  });
}
