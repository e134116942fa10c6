// Which hosts never leave the machine: plain http to them is acceptable (tests, the simulator, a local
// API). One list for every URL check (Graph base URL, feeds, webhooks, the API bind address).

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for a loopback host name or address, in any letter case (URL hosts may arrive unnormalised). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}
