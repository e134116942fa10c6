// Resumes a waiting Lifecycle Workflows task: POST {GRAPH_BASE_URL}{callbackUriPath} with the app's
// Graph token (permission LifecycleWorkflows.ReadWrite.All), body
// {data:{operationStatus}, source:"offboard", type:"lifecycleEvent"}; Graph answers 204. The action has
// no message parameter (v1.0 metadata: source, type, data), so a note such as "dry run: nothing was
// retired" travels in `source`, the caller's description Lifecycle Workflows keeps with the result.
// The call is graphCall's (src/graph/call.ts) on the write budget, like the retire POST.
// 429, 5xx, 403 (a permission not granted yet), timeouts and token failures are retried with backoff;
// 400, 404, 409 and 410 mean the task cannot take this resume (already resumed, timed out, gone): stop.
import { TokenAcquisitionError } from '../entra/errors.js';
import { type GraphCallContext, graphCall, retryAfterOf } from '../graph/call.js';
import { GraphError, GraphNetworkError, GraphTimeoutError } from '../graph/errors.js';
import { resumeBody } from '../graph/requests.js';
import { isCallbackPath } from '../values/callback-path.js';
import { DeliveryError } from './errors.js';
import type { ResumeJobData } from './queue.js';

const PERMANENT = new Set([400, 404, 409, 410]);

export interface ResumeSettings {
  /** The write budget's call context (the notify worker's: the circuit does not hold a resume). */
  graph: GraphCallContext;
}

export interface ResumeDelivery {
  status: number;
  requestId?: string;
}

// The body is built in src/graph/requests.ts, where the contract test checks it.
export { resumeBody };

export async function deliverResume(job: ResumeJobData, s: ResumeSettings): Promise<ResumeDelivery> {
  // Checked again here: the job came out of Redis, and the token must only ever go to this shape.
  if (!isCallbackPath(job.callbackUriPath)) {
    throw new DeliveryError(
      'callbackUriPath has not the resume shape',
      null,
      true,
      undefined,
      'invalid_path',
    );
  }
  try {
    // One refresh for a token Graph no longer takes (revoked, rotated): graphCall's, as for every call.
    const res = await graphCall(s.graph, {
      method: 'POST',
      path: job.callbackUriPath,
      subject: job.user,
      body: resumeBody(job.operationStatus, job.note),
      clientRequestId: job.eventId,
    });
    return { status: res.status, ...(res.requestId ? { requestId: res.requestId } : {}) };
  } catch (err) {
    throw asDeliveryError(err);
  }
}

function asDeliveryError(err: unknown): unknown {
  if (err instanceof TokenAcquisitionError) {
    return new DeliveryError(`token acquisition failed: ${err.name}`, null, false, undefined, 'token');
  }
  if (err instanceof GraphTimeoutError) {
    return new DeliveryError(err.message, null, false, undefined, 'timeout');
  }
  if (err instanceof GraphNetworkError) return new DeliveryError(err.message, null, false);
  if (err instanceof GraphError && err.status !== null) {
    return new DeliveryError(
      `Graph answered ${err.status}${err.code ? ` (${err.code.slice(0, 80)})` : ''}`,
      err.status,
      PERMANENT.has(err.status),
      retryAfterOf(err),
    );
  }
  return err;
}
