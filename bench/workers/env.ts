// Settings of the baseline workers, read from the same variable names the product uses so the
// harness starts every kind of worker with one environment.
import { request } from 'undici';
export class BaselineConfigError extends Error {
  override readonly name = 'BaselineConfigError';
}

export class TokenFetchError extends Error {
  override readonly name = 'TokenFetchError';
}

/** The bare worker expects 204 only; anything else fails the job. */
export class UnexpectedStatusError extends Error {
  override readonly name = 'UnexpectedStatusError';
}

export interface BaselineEnv {
  redisUrl: string;
  prefix: string;
  graphBaseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  concurrency: number;
}

export function readBaselineEnv(env: NodeJS.ProcessEnv = process.env): BaselineEnv {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new BaselineConfigError(`${name} is required`);
    return v;
  };
  const authority = need('AZURE_AUTHORITY_HOST').replace(/\/+$/, '');
  return {
    redisUrl: need('REDIS_URL'),
    prefix: need('QUEUE_PREFIX'),
    graphBaseUrl: need('GRAPH_BASE_URL').replace(/\/+$/, ''),
    tokenUrl: `${authority}/${need('AZURE_TENANT_ID')}/oauth2/v2.0/token`,
    clientId: need('AZURE_CLIENT_ID'),
    clientSecret: need('AZURE_CLIENT_SECRET'),
    concurrency: Number(env.WORKER_CONCURRENCY ?? 10),
  };
}

/**
 * One client-credentials token at start-up (before the timed part): the baselines measure Graph
 * handling, not token handling. NODE_EXTRA_CA_CERTS makes fetch trust the simulator's certificate.
 */
export async function fetchToken(env: BaselineEnv): Promise<string> {
  const res = await fetch(env.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: env.clientId,
      client_secret: env.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new TokenFetchError(`token endpoint answered ${res.status}`);
  return body.access_token;
}

export function actionUrl(env: BaselineEnv, user: string): string {
  return `${env.graphBaseUrl}/users/${encodeURIComponent(user)}/removeAllDevicesFromManagement`;
}

/** The same bodiless POST the product sends; resolves with the response after reading its body. */
export async function postRetire(env: BaselineEnv, token: string, user: string): Promise<Response> {
  const res = await fetch(actionUrl(env, user), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    body: new Uint8Array(0),
  });
  // Reading the body keeps the keep-alive socket reusable (cancelling it makes undici drop it).
  await res.arrayBuffer();
  return res;
}

/** The same POST through undici's request() (what the product's client uses since issue 10). */
export async function postRetireRequest(
  env: BaselineEnv,
  token: string,
  user: string,
): Promise<{ status: number }> {
  const res = await request(actionUrl(env, user), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-length': '0' },
  });
  await res.body.dump();
  return { status: res.statusCode };
}

/** SIGTERM → close the BullMQ worker (finishes active jobs) → exit, so a CPU profile gets written. */
export function exitOnSignal(close: () => Promise<void>): void {
  const stop = () => {
    close()
      .catch(() => {})
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
