import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimStats } from '../../src/sim/types.js';

const CLI = 'dist/cli.js';
let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

function startCli(args: string[]): Promise<Record<string, unknown>> {
  child = spawn(process.execPath, [CLI, 'simulate-graph', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = child;
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      try {
        resolve(JSON.parse(out) as Record<string, unknown>);
      } catch {
        // wait for the rest of the JSON
      }
    });
    proc.once('exit', (code) => reject(new Error(`simulate-graph exited ${code}: ${err}`)));
  });
}

describe('offboard simulate-graph', () => {
  it('prints connection details and worker env, serves until SIGTERM', async () => {
    const info = await startCli([
      '--limit',
      '2/2s',
      '--retry-after',
      'fractional',
      '--client-secret',
      'cli-secret',
    ]);
    const env = info.env as Record<string, string>;
    expect(env).toMatchObject({ AZURE_CLIENT_SECRET: 'cli-secret', GRAPH_BASE_URL: info.graphBaseUrl });
    expect(env.AZURE_AUTHORITY_HOST).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(env.NODE_EXTRA_CA_CERTS).toBe(info.caFile);

    // The limit is live: the third POST inside the window is throttled with a fractional Retry-After.
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: String(info.clientId),
      client_secret: 'cli-secret',
      scope: 'https://graph.microsoft.com/.default',
    });
    // Without --tls-dir the CLI uses OFFBOARD_SIM_TLS_DIR: the certificate this test worker already trusts.
    expect(info.caFile).toBe(process.env.NODE_EXTRA_CA_CERTS);
    const tokenRes = await fetch(`${env.AZURE_AUTHORITY_HOST}/${info.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body,
    });
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(
        `${info.graphBaseUrl}/users/u${i}%40contoso.com/removeAllDevicesFromManagement`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        },
      );
      statuses.push(res.status);
      retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([204, 204, 429]);
    expect(retryAfter).toMatch(/^\d+\.\d{3}$/);
    const stats = (await (await fetch(`${info.controlUrl}/stats?log=0`)).json()) as SimStats;
    expect(stats.graph.calls).toBe(3);

    child?.kill('SIGTERM');
    const [code] = await once(child as ChildProcess, 'exit');
    expect(code).toBe(0);
  });

  it('rejects a malformed limit with exit code 2', async () => {
    child = spawn(process.execPath, [CLI, 'simulate-graph', '--limit', 'lots'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toMatch(/--limit expects N\/duration/);
  });
});
