// The Entra fake: HTTPS on loopback, serving discovery, token and device-code endpoints for each
// simulated tenant (tenants/).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { readBody, sendJson } from '../http.js';
import type { SimState } from '../state.js';
import { entraErrors, sendEntraError } from './errors.js';
import { instanceDiscovery, openIdConfiguration } from './metadata.js';
import { handleDeviceCode, handleToken } from './token.js';

/** Tenant aliases MSAL may use in an authority; all resolve to the simulated tenant. */
const ALIASES = new Set(['common', 'organizations']);

export function createEntraServer(state: SimState, tls: { certFile: string; keyFile: string }): Server {
  const server = createServer(
    { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
    (req, res) => {
      route(state, req, res).catch(() => {
        if (!res.headersSent)
          sendJson(res, 500, { error: 'server_error', error_description: 'simulator error' });
        else res.destroy();
      });
    },
  );
  server.keepAliveTimeout = 5000;
  return server;
}

async function route(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://sim.invalid');
  const segments = url.pathname.split('/').filter(Boolean);
  const [first, ...rest] = segments;
  const path = rest.join('/');
  if (req.method === 'GET' && url.pathname === '/devicelogin') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(
      'offboard simulator: device codes approve automatically, or POST /_sim/control {"deviceCode":{"approve":"CODE"}} on the Graph fake.\n',
    );
    return;
  }
  if (req.method === 'GET' && first === 'common' && path === 'discovery/instance') {
    sendJson(res, 200, instanceDiscovery(state));
    return;
  }
  if (!first) {
    sendJson(res, 404, { error: 'not_found' });
    return;
  }
  // Each tenant is its own authority (`/{tenantId}/…`); the aliases resolve to the default tenant.
  const tenant = ALIASES.has(first.toLowerCase())
    ? state.tenants.defaultTenant
    : state.tenants.forAuthority(first);
  if (
    req.method === 'GET' &&
    (path === 'v2.0/.well-known/openid-configuration' || path === '.well-known/openid-configuration')
  ) {
    if (!tenant) return sendEntraError(res, entraErrors.tenantNotFound(first));
    sendJson(res, 200, openIdConfiguration(state, tenant.id));
    return;
  }
  if (req.method === 'GET' && path === 'discovery/v2.0/keys') {
    sendJson(res, 200, { keys: [] });
    return;
  }
  if (req.method === 'POST' && (path === 'oauth2/v2.0/token' || path === 'oauth2/v2.0/devicecode')) {
    const body = await readBody(req, 64 * 1024);
    if (!tenant) {
      state.stats.tokenRequest(new URLSearchParams(body).get('grant_type') ?? '');
      state.stats.tokenFailure();
      return sendEntraError(res, entraErrors.tenantNotFound(first));
    }
    if (path === 'oauth2/v2.0/token') handleToken(state, tenant, req, res, body);
    else handleDeviceCode(state, tenant, req, res, body);
    return;
  }
  sendJson(res, 404, { error: 'not_found', error_description: `no route for ${req.method} ${url.pathname}` });
}
