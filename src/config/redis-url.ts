// Reading REDIS_URL and REDIS_CLUSTER_NODES: the node list of a cluster URL (`[::1]:6379` included),
// the credentials in its user-info (a stray `%` included) and a loggable form without the password.

export interface RedisNode {
  host: string;
  port: number;
}

const CLUSTER_SCHEME = /^rediss?\+cluster:\/\//i;

export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/**
 * Splits `scheme://user-info@hosts/path?query` at the LAST `@` before any query: a password may hold
 * an unencoded `@` or `/`, a host list never does.
 */
function splitAuthority(url: string): { userInfo?: string; hosts: string } {
  const rest = url.replace(/^[a-z+]+:\/\//i, '').replace(/[?#].*$/, '');
  const at = rest.lastIndexOf('@');
  const userInfo = at < 0 ? undefined : rest.slice(0, at);
  const hosts = (at < 0 ? rest : rest.slice(at + 1)).replace(/\/.*$/, '');
  return { userInfo, hosts };
}

const IPV6_NODE = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/;
const NAME_NODE = /^([^\s:[\]/@]+)(?::(\d{1,5}))?$/;

/**
 * `host:port[,host:port…]`; the port defaults to 6379 and IPv6 addresses go in brackets
 * (`[::1]:6379`, as in URLs). Null when any entry is malformed.
 */
export function parseNodeList(list: string): RedisNode[] | null {
  const nodes: RedisNode[] = [];
  for (const entry of list.split(',').map((e) => e.trim())) {
    const m = IPV6_NODE.exec(entry) ?? NAME_NODE.exec(entry);
    const port = Number(m?.[2] ?? 6379);
    if (!m?.[1] || !Number.isInteger(port) || port < 1 || port > 65_535) return null;
    nodes.push({ host: m[1], port });
  }
  return nodes.length > 0 ? nodes : null;
}

/** The node list of a `redis[s]+cluster://[user:pass@]h1:p1,h2:p2` URL; null when malformed. */
export function clusterNodesOf(url: string): RedisNode[] | null {
  return parseNodeList(splitAuthority(url).hosts);
}

/**
 * Percent-decodes like a browser: valid `%XX` sequences are decoded, a `%` that starts none (a
 * password such as `50%off`) stays as it is instead of throwing URIError.
 */
function decodeLenient(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run; // bytes that are not UTF-8: keep them as written
    }
  });
}

/**
 * Credentials from a Redis URL's user-info, for a cluster (`redis+cluster://user:pass@h1:p1,h2:p2`, a
 * multi-host authority that WHATWG URL cannot parse) or `redis[s]://user:pass@host` with the nodes in
 * REDIS_CLUSTER_NODES. Without a colon the user-info is a user name, as ioredis reads single-node URLs.
 */
export function redisCredentials(url: string): { username?: string; password?: string } {
  const { userInfo } = splitAuthority(url);
  if (!userInfo) return {};
  const colon = userInfo.indexOf(':');
  const user = colon < 0 ? userInfo : userInfo.slice(0, colon);
  const pass = colon < 0 ? '' : userInfo.slice(colon + 1);
  return {
    username: user ? decodeLenient(user) : undefined,
    password: pass ? decodeLenient(pass) : undefined,
  };
}

/** Hides a password in a Redis URL so it can be logged. */
export function redact(redisUrl: string): string {
  const { userInfo } = splitAuthority(redisUrl);
  if (!userInfo?.includes(':')) return redisUrl;
  const user = userInfo.slice(0, userInfo.indexOf(':'));
  return redisUrl.replace(`${userInfo}@`, `${user}:***@`);
}
