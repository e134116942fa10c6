// `offboard simulate-graph`: the Graph + Entra simulator as a standalone process for demos, manual
// testing and benchmarks. Never a default target of `worker`: the worker only uses it when pointed at it.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseRate } from '../../config/parse.js';
import { startSimulator } from '../../sim/index.js';
import type { RetryAfterFormat, Simulator } from '../../sim/types.js';
import { UsageError } from '../errors.js';
import { action, printJson } from '../run.js';

interface Options {
  graphPort: string;
  authPort: string;
  latency: string;
  limit?: string;
  tenantLimit?: string;
  retryAfter: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  tokenLifetime?: string;
  tlsDir?: string;
  json?: boolean;
}

const FORMATS: RetryAfterFormat[] = ['seconds', 'fractional', 'http-date', 'none'];

export function configure(cmd: Command): void {
  cmd
    .option('--graph-port <port>', 'Graph fake port (0 = any free port)', '0')
    .option('--auth-port <port>', 'Entra fake (https) port (0 = any free port)', '0')
    .option('--latency <ms>', 'added before every Graph answer', '0')
    .option('--limit <N/duration>', 'Intune-like sliding window per app, e.g. 20/2s (default: unlimited)')
    .option('--tenant-limit <N/duration>', 'sliding window across apps, e.g. 40/2s')
    .option('--retry-after <format>', `Retry-After on 429: ${FORMATS.join('|')}`, 'seconds')
    .option('--tenant-id <guid>', 'tenant id (default: a fixed GUID)')
    .option('--client-id <guid>', 'app (client) id (default: a fixed GUID)')
    .option('--client-secret <secret>', 'accepted client secret (default: random)')
    .option('--token-lifetime <seconds>', 'access token lifetime', '3600')
    .option(
      '--tls-dir <dir>',
      'where the TLS certificate is kept and reused (default: $OFFBOARD_SIM_TLS_DIR, else <tmp>/offboard-sim-tls)',
    )
    .option('--json', 'print the connection details as JSON')
    .action(
      action(async (opts: Options) => {
        const sim = await startSimulator(toSimulatorOptions(opts));
        if (opts.json) printJson(describe(sim));
        else process.stdout.write(humanText(sim));
        await new Promise<void>((resolve) => {
          const stop = (): void => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await sim.close();
      }),
    );
}

function toSimulatorOptions(opts: Options) {
  const int = (value: string, name: string, min: number, max: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`${name} must be an integer ${min}-${max}`);
    return n;
  };
  const rate = (value: string | undefined, name: string) => {
    if (value === undefined) return null;
    const parsed = parseRate(value);
    if (!parsed) throw new UsageError(`${name} expects N/duration such as 20/2s (got "${value}")`);
    return parsed;
  };
  if (!FORMATS.includes(opts.retryAfter as RetryAfterFormat)) {
    throw new UsageError(`--retry-after must be one of ${FORMATS.join(', ')}`);
  }
  const limit = rate(opts.limit, '--limit');
  return {
    graphPort: int(opts.graphPort, '--graph-port', 0, 65_535),
    authPort: int(opts.authPort, '--auth-port', 0, 65_535),
    latencyMs: int(opts.latency, '--latency', 0, 600_000),
    limit: limit && { ...limit, retryAfter: opts.retryAfter as RetryAfterFormat },
    tenantLimit: rate(opts.tenantLimit, '--tenant-limit'),
    tenantId: opts.tenantId,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    tokenLifetimeSec: int(opts.tokenLifetime ?? '3600', '--token-lifetime', 1, 86_400),
    // A stable default keeps NODE_EXTRA_CA_CERTS of already-configured workers valid across restarts.
    tlsDir: opts.tlsDir ?? process.env.OFFBOARD_SIM_TLS_DIR ?? join(tmpdir(), 'offboard-sim-tls'),
  };
}

function describe(sim: Simulator) {
  return {
    graphBaseUrl: sim.graphBaseUrl,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    federatedToken: sim.federatedToken,
    caFile: sim.caFile,
    controlUrl: sim.controlUrl,
    env: sim.env(),
  };
}

function humanText(sim: Simulator): string {
  const env = Object.entries(sim.env())
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  return [
    'offboard Graph simulator running (Ctrl-C to stop)',
    `  Graph:     ${sim.graphBaseUrl}`,
    `  Entra:     ${sim.authorityHost}/${sim.tenantId}`,
    `  tenant:    ${sim.tenantId}`,
    `  client:    ${sim.clientId}`,
    `  secret:    ${sim.clientSecret}`,
    `  CA file:   ${sim.caFile}`,
    `  control:   POST ${sim.controlUrl}/control, POST ${sim.controlUrl}/reset, GET ${sim.controlUrl}/stats`,
    '',
    'Environment for a worker (NODE_EXTRA_CA_CERTS must be set when the process starts):',
    env,
    '',
  ].join('\n');
}
