// The Graph + Entra simulator as a library: tests, the demo, the benchmark and `offboard simulate-graph`.

import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyControl, resetState } from './control.js';
import { createEntraServer } from './entra/server.js';
import { createGraphServer } from './graph/server.js';
import { createState } from './state.js';
import { tenantStats } from './tenants/snapshot.js';
import { ensureSimCertificate } from './tls.js';
import type { SimControl, Simulator, SimulatorOptions } from './types.js';

export { InvalidControlError, parseControl } from './control.js';
export { ensureSimCertificate, type SimCertificate } from './tls.js';
export type * from './types.js';

const HOST = '127.0.0.1';

/**
 * Starts both fakes on loopback. The TLS certificate comes from `opts.tlsDir` or `OFFBOARD_SIM_TLS_DIR` when
 * set (so a process started with NODE_EXTRA_CA_CERTS pointing at it trusts the Entra fake), else a fresh temp dir.
 */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  validate(opts);
  const state = createState(opts);
  applyControl(state, {
    ...(opts.tenants ? { tenants: opts.tenants } : {}),
    ...(opts.autoCreateTenants !== undefined ? { autoCreateTenants: opts.autoCreateTenants } : {}),
    ...(opts.appLimitAcrossTenants !== undefined
      ? { appLimitAcrossTenants: opts.appLimitAcrossTenants }
      : {}),
  });
  const tlsDir =
    opts.tlsDir || process.env.OFFBOARD_SIM_TLS_DIR || mkdtempSync(join(tmpdir(), 'offboard-sim-tls-'));
  const tls = await ensureSimCertificate(tlsDir);

  const entra = createEntraServer(state, tls);
  const graph = createGraphServer(state);
  try {
    await listen(entra, opts.authPort ?? 0);
    await listen(graph, opts.graphPort ?? 0);
  } catch (err) {
    await Promise.all([stop(entra), stop(graph)]);
    throw err;
  }
  const authPort = (entra.address() as AddressInfo).port;
  const graphPort = (graph.address() as AddressInfo).port;
  state.authorityHost = `https://${HOST}:${authPort}`;

  let closed: Promise<void> | undefined;
  const graphBaseUrl = `http://${HOST}:${graphPort}/v1.0`;
  return {
    graphBaseUrl,
    authorityHost: state.authorityHost,
    authorityHostAndPort: `${HOST}:${authPort}`,
    tenantId: state.tenantId,
    tenantIds: () => state.tenants.all().map((t) => t.id),
    clientId: state.clientId,
    get clientSecret() {
      return state.clientSecret;
    },
    federatedToken: state.federatedToken,
    caFile: tls.certFile,
    controlUrl: `http://${HOST}:${graphPort}/_sim`,
    env: () => ({
      GRAPH_BASE_URL: graphBaseUrl,
      AZURE_AUTHORITY_HOST: state.authorityHost,
      AZURE_TENANT_ID: state.tenantId,
      AZURE_CLIENT_ID: state.clientId,
      AZURE_CLIENT_SECRET: state.clientSecret,
      NODE_EXTRA_CA_CERTS: tls.certFile,
    }),
    stats: (o?: { log?: boolean }) => ({
      ...state.stats.snapshot(o?.log !== false),
      reads: state.devices.stats(),
      ...tenantStats(state, o?.log !== false),
    }),
    devices: (user: string) => state.devices.view(user),
    control: (patch: SimControl) => applyControl(state, patch),
    lifecycle: () => state.lifecycle.calls.map((c) => ({ ...c })),
    reset: () => resetState(state),
    close: () => {
      state.tenants.close();
      closed ??= Promise.all([stop(entra), stop(graph)]).then(() => undefined);
      return closed;
    },
  };
}

function validate(opts: SimulatorOptions): void {
  const port = (p: number | undefined, name: string) => {
    if (p !== undefined && (!Number.isInteger(p) || p < 0 || p > 65_535))
      throw new RangeError(`${name} must be 0-65535`);
  };
  port(opts.graphPort, 'graphPort');
  port(opts.authPort, 'authPort');
  if (opts.tokenLifetimeSec !== undefined && !(opts.tokenLifetimeSec >= 1))
    throw new RangeError('tokenLifetimeSec must be >= 1');
  // The same schema as runtime control guards latency and limits.
  applyControl(createState({}), {
    latencyMs: opts.latencyMs,
    limit: opts.limit,
    tenantLimit: opts.tenantLimit,
    violationGraceMs: opts.violationGraceMs,
    readLimit: opts.readLimit,
    retireDelayMs: opts.retireDelayMs,
    devicesPageSize: opts.devicesPageSize,
  });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function stop(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Hanging calls and keep-alive sockets would hold close() forever.
    server.closeAllConnections();
  });
}
