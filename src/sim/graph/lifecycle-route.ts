// Lifecycle Workflows in the Graph fake: the resume call a custom task extension makes when its work is
// done. POST /v1.0/identityGovernance/lifecycleWorkflows/workflows/{id}/tasks/{id}/
// taskProcessingResults/{id}/microsoft.graph.identityGovernance.resume with a bearer token and
// {data:{operationStatus:"completed"|"failed"}, source, type:"lifecycleEvent"} → 204. Every call that
// got through is recorded (GET /_sim/lifecycle, Simulator.lifecycle()), so tests see what a workflow got.
// The body is held to the v1.0 `resume` action first (its parameters, the callback data's properties,
// the operationStatus enum): what the contract refuses is answered as Graph does (refusal.ts).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { checkRequest } from '../../graph/contract/check.js';
import { readBody } from '../http.js';
import type { SimState } from '../state.js';
import { authenticate, bearerOf } from '../tenants/auth.js';
import { PERMISSIONS } from '../tokens.js';
import { refusal } from './refusal.js';
import { replyError } from './responses.js';
import type { SimRoute } from './route.js';

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const RESUME = new RegExp(
  `^/v1\\.0/identityGovernance/lifecycleWorkflows/workflows/(${GUID})/tasks/(${GUID})` +
    `/taskProcessingResults/(${GUID})/microsoft\\.graph\\.identityGovernance\\.resume$`,
);

const body = z.object({
  data: z.object({
    '@odata.type': z.literal('microsoft.graph.identityGovernance.customTaskExtensionCallbackData').optional(),
    operationStatus: z.enum(['completed', 'failed']),
  }),
  source: z.string().min(1).max(256),
  type: z.literal('lifecycleEvent'),
});

/** Graph's error body, innerError with request-id, date and client-request-id (responses.ts). */
function error(res: ServerResponse, status: number, code: string, message: string): void {
  replyError(res, status, { requestId: randomUUID() }, { code, message });
}

export const lifecycleRoute: SimRoute = {
  match: (method, path) =>
    method === 'POST' && path.startsWith('/v1.0/identityGovernance/lifecycleWorkflows/'),
  async handle(state: SimState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const raw = await readBody(req, 64 * 1024).catch(() => null);
    const m = RESUME.exec(url.pathname);
    if (!m || url.search !== '') {
      return error(res, 400, 'BadRequest', `Resource not found for the segment '${url.pathname}'.`);
    }
    const bearer = bearerOf(String(req.headers.authorization ?? ''));
    const check = bearer ? authenticate(state, bearer) : null;
    if (!check?.ok) {
      return error(res, 401, 'InvalidAuthenticationToken', check ? check.message : 'Access token is empty.');
    }
    if (
      state.deniedPermissions.has(PERMISSIONS.lifecycleWorkflows) ||
      state.consentMissing ||
      check.tenant.consent === 'revoked'
    ) {
      return error(
        res,
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(raw ?? '');
    } catch {
      json = undefined;
    }
    const violation = checkRequest({
      method: 'POST',
      path: url.pathname.replace(/^\/v1\.0/, ''),
      body: json,
    })[0];
    if (violation) {
      const r = refusal(violation);
      return error(res, r.status, r.code, r.message);
    }
    let parsed: z.infer<typeof body>;
    try {
      parsed = body.parse(json);
    } catch {
      return error(
        res,
        400,
        'BadRequest',
        'The request body is not a valid customTaskExtensionCallbackData.',
      );
    }
    const status = state.lifecycle.nextStatus();
    state.lifecycle.calls.push({
      workflowId: (m[1] as string).toLowerCase(),
      taskId: (m[2] as string).toLowerCase(),
      taskProcessingResultId: (m[3] as string).toLowerCase(),
      operationStatus: parsed.data.operationStatus,
      source: parsed.source,
      at: Date.now(),
      status,
    });
    if (status >= 200 && status < 300) {
      res.writeHead(status, { 'request-id': randomUUID() });
      res.end();
      return;
    }
    error(res, status, status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', 'scripted failure');
  },
};
