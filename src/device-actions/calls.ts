// One Graph request of a device policy's execution, through the one call path (graphCall/graphRead,
// src/graph/call.ts) and the same loop as the retire POST (untilAnswered: in-call retries, throttled
// waits capped by THROTTLE_WAIT_CAP, one 401 refresh then the circuit). Writes spend the WRITE budget
// (Intune counts them with the retire), reads the READ budget. Every exchange counts in the job's
// progress and the fleet metrics and is one `device-action` audit entry (device, action, status,
// request-id: never a body, so never a bypass code).
import { type Exchange, exchangeStatus, type GraphCallContext, graphCall, graphRead } from '../graph/call.js';
import { GraphThrottledError } from '../graph/errors.js';
import type { GraphPage } from '../graph/read.js';
import type { GraphRequestSpec } from '../graph/requests.js';
import type { AuditEntry } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { graphCallFields, incrementMetrics } from '../records/metrics.js';
import type { JobRun } from '../worker/attempt.js';
import { untilAnswered } from '../worker/call-loop.js';
import { ThrottleCapError } from '../worker/outcome-policy.js';

export interface CallDeps {
  ctx: QueueContext;
  /** The write budget's context (retire, wipe, delete, Autopilot delete). */
  writes: GraphCallContext;
  /** The read budget's context (device reads, bypass code, Autopilot lookup). */
  reads: GraphCallContext;
  actor: string;
  /** Shutdown: stops waits; a call on the wire finishes. */
  wait?: AbortSignal;
}

/** What a call is about, for the audit entry. */
export interface CallSubject {
  deviceId: string;
  action: string;
  /** e.g. `send`, `look` (restart check), `bypass-code`, `autopilot-find`, `autopilot-delete`. */
  step: string;
}

export interface WriteAnswer {
  status: number;
  requestId?: string;
  at: string;
}

function loopOptions(deps: CallDeps, run: JobRun, read: boolean) {
  const cfg = deps.ctx.config.worker;
  let readWaits = 0;
  return {
    cfg,
    ...(deps.wait ? { signal: deps.wait } : {}),
    onRetry: () =>
      incrementMetrics(deps.ctx.redis, deps.ctx.prefix, { [read ? 'read_retries' : 'retries']: 1 }),
    onThrottledWait: (err: GraphThrottledError) => {
      // The gate makes the next try wait; the caps end a job that would loop on it forever.
      if (read ? ++readWaits > cfg.throttleWaitCap : run.progress.throttledWaits > cfg.throttleWaitCap)
        throw new ThrottleCapError(err);
    },
    unauthorizedReason:
      'Graph answered 401 to a device action even with a freshly acquired token (credential, tenant or consent problem)',
  };
}

function onExchange(deps: CallDeps, run: JobRun, what: CallSubject, read: boolean) {
  return async (e: Exchange): Promise<void> => {
    const status = exchangeStatus(e);
    const throttled = e.error instanceof GraphThrottledError && e.error.retryAfterMs !== undefined;
    if (!read) {
      const p = run.progress;
      p.graphCalls += 1;
      p.lastStatus = e.status;
      if (e.requestId) p.lastRequestId = e.requestId;
      p.firstAttemptAt ??= e.at;
      if (throttled) p.throttledWaits += 1;
    }
    const fields = read
      ? { [`read_calls:${status}`]: 1 }
      : { ...graphCallFields(status, e.durationMs / 1000), ...(throttled ? { throttled_waits: 1 } : {}) };
    const entry: AuditEntry = {
      type: 'device-action',
      actor: deps.actor,
      at: e.at,
      jobId: run.job.id ?? '',
      user: run.data.user,
      correlationId: run.data.correlationId,
      details: {
        deviceId: what.deviceId,
        action: what.action,
        step: what.step,
        status: e.status,
        ...(e.requestId ? { requestId: e.requestId } : {}),
        clientRequestId: e.clientRequestId,
        durationMs: e.durationMs,
        ...(e.error ? { error: (e.error as Error)?.name ?? 'Error' } : {}),
      },
    };
    await Promise.all([
      appendAudit(deps.ctx, entry),
      incrementMetrics(deps.ctx.redis, deps.ctx.prefix, fields).catch(() => undefined),
    ]);
  };
}

/** A write (POST or DELETE) until Graph answers 2xx; rejects with the typed error. */
export async function write(
  deps: CallDeps,
  run: JobRun,
  spec: GraphRequestSpec,
  what: CallSubject,
): Promise<WriteAnswer> {
  const res = await untilAnswered(
    () =>
      graphCall(deps.writes, {
        method: spec.method,
        path: spec.path,
        // Pace health is judged across users, as for the retire.
        subject: run.data.user,
        ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(deps.wait ? { wait: deps.wait } : {}),
        onExchange: onExchange(deps, run, what, false),
      }),
    loopOptions(deps, run, false),
  );
  return { status: res.status, ...(res.requestId ? { requestId: res.requestId } : {}), at: res.at };
}

/** A GET of one resource or page, parsed, on the read budget. */
export async function read<T>(
  deps: CallDeps,
  run: JobRun,
  spec: GraphRequestSpec,
  what: CallSubject,
): Promise<GraphPage<T>> {
  return untilAnswered(
    () =>
      graphRead<T>(deps.reads, {
        path: spec.path,
        subject: run.data.user,
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(deps.wait ? { wait: deps.wait } : {}),
        onExchange: onExchange(deps, run, what, true),
      }),
    loopOptions(deps, run, true),
  );
}
