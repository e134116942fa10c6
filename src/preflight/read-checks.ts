// Each read the product will make, sent once with the exact query the product sends (the builders
// are the product's own: the Entra sweep's leaversPath, the inventory's managedDevicesPath), one page
// only, through the read pacer so the check spends the read budget like any other read. GETs only.
import type { Config } from '../config/load.js';
import { fixedToken, graphContext, graphRead } from '../graph/call.js';
import { managedDevicesPath } from '../graph/devices.js';
import { GraphError } from '../graph/errors.js';
import type { GraphPage } from '../graph/read.js';
import { anyUserPath } from '../graph/requests.js';
import type { Pacer } from '../pacing/pacer.js';
import { leaversPath, leaveWindow } from '../schedule/entra-source.js';
import { PERMISSION } from './permissions.js';
import type { PreflightCheck } from './types.js';

export interface ReadEnv {
  config: Config;
  token: string;
  pacer: Pacer;
  signal?: AbortSignal;
}

/** One paced GET through the one Graph call path (read slot, gate, feedback; a 429 gates every process). */
function pacedGet(env: ReadEnv, url: string, headers?: Record<string, string>): Promise<GraphPage> {
  const ctx = graphContext(env.config, fixedToken(env.token), env.pacer);
  return graphRead(ctx, {
    path: url,
    subject: 'preflight',
    refreshOn401: false,
    ...(headers ? { headers } : {}),
    ...(env.signal ? { wait: env.signal, call: env.signal } : {}),
  });
}

/** "HTTP 403 Authorization_RequestDenied: Insufficient privileges… (request-id …)". */
function describe(err: unknown): string {
  if (err instanceof GraphError) {
    const what = [`HTTP ${err.status ?? '-'}`, err.code].filter(Boolean).join(' ');
    const msg = err.graphMessage ? `: ${err.graphMessage.slice(0, 300)}` : '';
    return `${what}${msg}${err.requestId ? ` (request-id ${err.requestId})` : ''}`;
  }
  return (err as Error)?.message ?? String(err);
}

/** The fix for a refused read, by status; `permissions` names what a 403 needs, `orElse` another way out. */
function readFix(err: unknown, permissions: string, orElse = ''): string {
  if (!(err instanceof GraphError))
    return 'check GRAPH_BASE_URL and the network path to Graph, then run again';
  if (err.status === 401) return 'Graph refused the token: check the token and permissions checks above';
  if (err.status === 403)
    return `grant ${permissions} (admin consent)${orElse}; if granted, check Intune RBAC and scope tags`;
  if (err.status === 400)
    return "Graph refused offboard's own query: do not go live; report it with the request-id (the query no longer fits Graph v1.0)";
  if (err.status === 429) return 'Graph throttled the read: run again once the Retry-After has passed';
  return 'Graph failed or did not answer: run again; if it persists, check Graph service health';
}

/** The Entra sweep's query ($filter on employeeLeaveDateTime, $count=true, ConsistencyLevel: eventual), $top=1. */
export async function checkEntraSweepRead(env: ReadEnv, lookaheadMs: number): Promise<PreflightCheck> {
  const now = Date.now();
  const path = leaversPath(leaveWindow(null, now, lookaheadMs), 1);
  try {
    const page = await pacedGet(env, path, { ConsistencyLevel: 'eventual' });
    const count = page.body['@odata.count'];
    return {
      id: 'read.entra-sweep',
      status: 'pass',
      detail: `GET ${path.split('?')[0]} (the sweep's $filter, $count=true, $top=1): HTTP ${page.status}, ${typeof count === 'number' ? count : '?'} leaver(s) in the window`,
    };
  } catch (err) {
    return {
      id: 'read.entra-sweep',
      status: 'fail',
      detail: `the Entra sweep query failed: ${describe(err)}`,
      fix: readFix(err, `${PERMISSION.readUsers} and ${PERMISSION.readLifecycleInfo}`),
    };
  }
}

/** One user of the directory, for the inventory check when no `--user` was given. */
async function someUser(env: ReadEnv): Promise<string | { error: unknown } | null> {
  try {
    const page = await pacedGet(env, anyUserPath());
    const first = page.value[0] as { id?: unknown } | undefined;
    return typeof first?.id === 'string' ? first.id.toLowerCase() : null;
  } catch (err) {
    return { error: err };
  }
}

/** The inventory read (`…/managedDevices?$select=<DEVICE_FIELDS>`) for `user`, or one directory user. */
export async function checkInventoryRead(env: ReadEnv, user?: string): Promise<PreflightCheck> {
  let target = user;
  if (!target) {
    const found = await someUser(env);
    if (found === null || typeof found === 'object') {
      return {
        id: 'read.inventory',
        status: 'fail',
        detail:
          found === null
            ? 'no user to read devices for: the directory listed none'
            : `no user to read devices for: reading one user failed: ${describe(found.error)}`,
        fix: `pass --user <upn|id> of a known test user (or grant ${PERMISSION.readUsers} so one can be read from the directory)`,
      };
    }
    target = found;
  }
  const path = managedDevicesPath(target);
  try {
    const page = await pacedGet(env, path);
    return {
      id: 'read.inventory',
      status: 'pass',
      detail: `the managedDevices of ${target}, read with the inventory's $select: HTTP ${page.status}, ${page.value.length} device(s) on the first page`,
    };
  } catch (err) {
    const notFound = err instanceof GraphError && err.status === 404;
    return {
      id: 'read.inventory',
      status: 'fail',
      detail: `the inventory read for ${target} failed: ${describe(err)}`,
      fix: notFound
        ? 'the user does not exist: pass --user <upn|id> of an existing test user'
        : readFix(err, PERMISSION.readDevices, ', or set EVIDENCE=off'),
    };
  }
}
