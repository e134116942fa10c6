// Outbound HTTP through the enterprise proxy. Node 20's fetch ignores HTTPS_PROXY / HTTP_PROXY /
// NO_PROXY; undici's EnvHttpProxyAgent honours them (lower- and upper-case, NO_PROXY host, suffix
// and port rules). Installed as the global dispatcher, it carries every fetch of the process: Graph
// calls, schedule feeds, MSAL's token requests (auth/http-client.ts). Redis is not HTTP
// and is not affected. Without any proxy variable nothing is installed and fetch connects directly.
import type { Dispatcher } from 'undici';

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;

/** The proxy variables that are set (names only: values may hold credentials). */
export function proxyVariables(env: NodeJS.ProcessEnv = process.env): string[] {
  return PROXY_VARS.filter((name) => (env[name] ?? '').trim() !== '');
}

/**
 * Installs an EnvHttpProxyAgent as the process's global dispatcher when a proxy variable is set, and
 * returns it; otherwise returns undefined and changes nothing. undici is loaded only then, so
 * commands on a machine without a proxy start as fast as before.
 */
export async function installProxyFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<Dispatcher | undefined> {
  if (proxyVariables(env).length === 0) return undefined;
  const { EnvHttpProxyAgent, setGlobalDispatcher } = await import('undici');
  // Same precedence as undici and curl: the lower-case variable wins over the upper-case one.
  const pick = (lower: string, upper: string) => env[lower] ?? env[upper];
  const httpProxy = pick('http_proxy', 'HTTP_PROXY');
  const httpsProxy = pick('https_proxy', 'HTTPS_PROXY');
  const noProxy = pick('no_proxy', 'NO_PROXY');
  const agent = new EnvHttpProxyAgent({
    ...(httpProxy ? { httpProxy } : {}),
    // Without HTTPS_PROXY, https requests use HTTP_PROXY too (EnvHttpProxyAgent's rule).
    ...(httpsProxy ? { httpsProxy } : {}),
    noProxy: noProxy ?? '',
  });
  setGlobalDispatcher(agent);
  return agent;
}
