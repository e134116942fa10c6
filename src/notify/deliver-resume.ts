// Resumes a waiting Lifecycle Workflows task: POST {GRAPH_BASE_URL}{callbackUriPath} with the app's
// Graph token (permission LifecycleWorkflows.ReadWrite.All), body
// {data:{operationStatus}, source:"offboard", type:"lifecycleEvent"}; Graph answers 204. The action has
// no message parameter (v1.0 metadata: source, type, data), so a note such as "dry run: nothing was
// retired" travels in `source`, the caller's description Lifecycle Workflows keeps with the result.
// 429, 5xx, 403 (a permission not granted yet), timeouts and token failures are retried with backoff;
// 400, 404, 409 and 410 mean the task cannot take this resume (already resumed, timed out, gone): stop.
import { checkGraphBaseUrl } from '../graph/url.js';
import { isCallbackPath } from '../intake/callback-path.js';
import type { TokenProvider } from '../interfaces.js';
import { DeliveryError } from './errors.js';
import { postJson } from './http.js';
import type { ResumeJobData } from './queue.js';

const PERMANENT = new Set([400, 404, 409, 410]);

export interface ResumeSettings {
  graphBaseUrl: string;
  tokenProvider: TokenProvider;
  timeoutMs?: number;
}

export interface ResumeDelivery {
  status: number;
  requestId?: string;
}

export function resumeBody(status: ResumeJobData['operationStatus'], note?: string): string {
  return JSON.stringify({
    data: {
      '@odata.type': 'microsoft.graph.identityGovernance.customTaskExtensionCallbackData',
      operationStatus: status,
    },
    source: note ? `offboard: ${note}` : 'offboard',
    type: 'lifecycleEvent',
  });
}

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
  const base = checkGraphBaseUrl(s.graphBaseUrl).href.replace(/\/+$/, '');
  const url = `${base}${job.callbackUriPath}`;
  const body = resumeBody(job.operationStatus, job.note);
  let forceRefresh = false;
  for (let round = 0; ; round++) {
    let token: string;
    try {
      token = await s.tokenProvider.getToken(forceRefresh ? { forceRefresh } : undefined);
    } catch (err) {
      throw new DeliveryError(
        `token acquisition failed: ${(err as Error)?.name ?? 'error'}`,
        null,
        false,
        undefined,
        'token',
      );
    }
    const res = await postJson(
      url,
      {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        'client-request-id': job.eventId,
      },
      body,
      s.timeoutMs,
    );
    if (res.status >= 200 && res.status < 300) return { status: res.status, requestId: res.requestId };
    // One refresh for a token Graph no longer takes (revoked, rotated), as the retire worker does.
    if (res.status === 401 && round === 0) {
      forceRefresh = true;
      continue;
    }
    const code = graphCode(res.body);
    throw new DeliveryError(
      `Graph answered ${res.status}${code ? ` (${code})` : ''}`,
      res.status,
      PERMANENT.has(res.status),
      res.retryAfterMs,
    );
  }
}

function graphCode(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } })?.error?.code;
    return typeof code === 'string' ? code.slice(0, 80) : undefined;
  } catch {
    return undefined;
  }
}
