// The Graph fake (plain http on loopback): the retire action, plus the /_sim control and stats API.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { checkRequest } from '../../graph/contract/check.js';
import { applyControl, InvalidControlError, resetState } from '../control.js';
import { delay, readBody, sendJson } from '../http.js';
import type { SimState } from '../state.js';
import { tenantStats } from '../tenants/snapshot.js';
import { decide } from './decide.js';
import { devicesRoute, devicesView } from './devices-route.js';
import { lifecycleRoute } from './lifecycle-route.js';
import { refusal } from './refusal.js';
import { replyError, replySuccess } from './responses.js';
import type { SimRoute } from './route.js';
import { userFromPath, userPathPattern } from './user-path.js';
import { userRoute, usersRoute } from './users-route.js';

const ROUTES: SimRoute[] = [usersRoute, userRoute, devicesRoute, lifecycleRoute];

const ACTION = userPathPattern('removeAllDevicesFromManagement');

/** The user addressed by an action path (lower-cased), or undefined when the path is not the action. */
export function parseActionPath(rawPath: string): string | undefined {
  return userFromPath(ACTION, rawPath);
}

export function createGraphServer(state: SimState): Server {
  const server = createServer((req, res) => {
    handle(state, req, res).catch(() => {
      if (!res.headersSent)
        sendJson(res, 500, { error: { code: 'SimulatorError', message: 'simulator error' } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 10_000;
  return server;
}

async function handle(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawUrl = req.url ?? '/';
  const rawPath = rawUrl.split('?')[0] ?? '/';
  if (rawPath === '/_sim' || rawPath.startsWith('/_sim/')) return handleControl(state, req, res, rawUrl);
  state.stats.request(req.method ?? 'GET');
  const route = ROUTES.find((r) => r.match(req.method ?? 'GET', rawPath));
  if (route) return route.handle(state, req, res, new URL(rawUrl, 'http://graph.sim.invalid'));
  const ids = { requestId: randomUUID(), clientRequestId: headerValue(req, 'client-request-id') };
  const user = parseActionPath(rawPath);
  if (user === undefined) {
    await readBody(req).catch(() => '');
    return replyError(res, 400, ids, {
      code: 'BadRequest',
      message: `Resource not found for the segment '${rawPath}'.`,
    });
  }
  if (req.method !== 'POST') {
    await readBody(req).catch(() => '');
    return replyError(res, 405, ids, {
      code: 'BadRequest',
      message: `${req.method} is not allowed on this resource.`,
    });
  }
  const at = Date.now();
  state.stats.graphArrived(user, at);
  const decision = decide(state, user, headerValue(req, 'authorization'), at);
  const tenant = decision.tenant;
  tenant?.stats.arrived(user, at);
  let done = false;
  const finish = (status: number): void => {
    if (done) return;
    done = true;
    state.stats.graphFinished({ user, at, status, clientRequestId: ids.clientRequestId });
    tenant?.stats.finished(status);
  };
  // A client that gives up (timeout) closes the socket: the call counts as never answered.
  res.on('close', () => finish(res.writableFinished ? res.statusCode : 0));

  const raw = await readBody(req, 64 * 1024).catch(() => '');
  // removeAllDevicesFromManagement takes no parameters (v1.0 metadata): a body naming one is refused
  // as Graph refuses it, before anything happens to the user's devices.
  const violation =
    decision.status >= 200 && decision.status < 300 ? actionViolation(rawPath, raw) : undefined;
  if (violation) {
    await delay(state.latencyMs);
    return replyError(res, 400, ids, violation);
  }
  await delay(state.latencyMs + (decision.delayMs ?? 0));
  if (decision.announce) {
    const sentAt = Date.now();
    const a = decision.announce;
    // Announced by the tenant the call belongs to: another tenant's calls are not inside it.
    (tenant?.windows ?? state.windows).announce(sentAt, 'until' in a ? a.until : sentAt + a.ms);
  }
  if (decision.hang) return; // held open until the client or close() ends the socket
  if (decision.status >= 200 && decision.status < 300) {
    // Intune accepted the retire: the user's devices start moving (retirePending, then gone).
    state.devices.retire(user);
    return replySuccess(res, decision.status, ids);
  }
  replyError(res, decision.status, ids, {
    code: decision.code,
    message: decision.message,
    retryAfter: decision.retryAfter,
  });
}

async function handleControl(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  rawUrl: string,
): Promise<void> {
  const url = new URL(rawUrl, 'http://sim.invalid');
  const body = await readBody(req, 4 * 1024 * 1024).catch(() => '');
  if (req.method === 'GET' && url.pathname === '/_sim/stats') {
    const withLog = url.searchParams.get('log') !== '0';
    const stats = state.stats.snapshot(withLog);
    return sendJson(res, 200, { ...stats, reads: state.devices.stats(), ...tenantStats(state, withLog) });
  }
  if (req.method === 'GET' && url.pathname === '/_sim/lifecycle') {
    return sendJson(res, 200, { calls: state.lifecycle.calls });
  }
  if (req.method === 'GET' && url.pathname === '/_sim/devices') return devicesView(state, res, url);
  if (req.method === 'GET' && url.pathname === '/_sim/device-codes') {
    return sendJson(res, 200, {
      pending: state.deviceCodes
        .pending()
        .map((e) => ({ userCode: e.userCode, expiresAt: new Date(e.expiresAt).toISOString() })),
    });
  }
  if (req.method === 'POST' && url.pathname === '/_sim/reset') {
    resetState(state);
    return sendJson(res, 200, { ok: true });
  }
  if (req.method === 'POST' && url.pathname === '/_sim/control') {
    let patch: unknown;
    try {
      patch = body ? JSON.parse(body) : {};
    } catch {
      return sendJson(res, 400, { error: { code: 'invalid_json', message: 'body is not JSON' } });
    }
    try {
      applyControl(state, patch);
    } catch (err) {
      if (err instanceof InvalidControlError)
        return sendJson(res, 400, { error: { code: 'invalid_control', message: err.message } });
      throw err;
    }
    return sendJson(res, 200, { ok: true });
  }
  sendJson(res, 404, { error: { code: 'not_found', message: `no route for ${req.method} ${url.pathname}` } });
}

function actionViolation(rawPath: string, raw: string): { code: string; message: string } | undefined {
  let body: unknown;
  try {
    body = raw.trim() === '' ? undefined : JSON.parse(raw);
  } catch {
    return { code: 'BadRequest', message: 'The request body is not valid JSON.' };
  }
  const violation = checkRequest({ method: 'POST', path: rawPath.replace(/^\/v1\.0\//, ''), body })[0];
  return violation ? refusal(violation) : undefined;
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
