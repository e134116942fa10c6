// One Graph request of a device policy's execution, through the one call path (graphCall/graphRead,
// src/graph/call.ts) and the same loop as the retire POST (untilAnswered: in-call retries, throttled
// waits capped by THROTTLE_WAIT_CAP, one 401 refresh then the circuit). Writes spend the WRITE budget
// (Intune counts them with the retire), reads the READ budget. The loop is the worker's, handed in. Every exchange counts in the job's
// progress and the fleet metrics and is one `device-action` audit entry (device, action, status,
// request-id: never a body, so never a bypass code).
import { type Exchange, exchangeStatus, type GraphCallContext, graphCall, graphRead } from '../graph/call.js';
import { GraphThrottledError } from '../graph/errors.js';
import type { GraphPage } from '../graph/read.js';
import type { GraphRequestSpec } from '../graph/requests.js';
import type { AuditEntry, DeviceActionResult, RetireJobData, RetireProgress } from '../interfaces.js';
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { graphCallFields, incrementMetrics } from '../records/metrics.js';

/** What a device action needs of the retire job being processed (the worker's JobRun fits it). */
export interface ActionRun {
  job: { id?: string; progress?: unknown; updateProgress(progress: object): Promise<void> };
  data: RetireJobData;
  progress: RetireProgress;
  deviceActions?: DeviceActionResult[];
  devicePolicy?: string;
}

/**
 * The worker's loop around one call (in-call retries, throttled waits with their cap, the 401 rule):
 * handed in by the processor, so one rule governs the retire and the device actions alike.
 */
export type CallLoop = <T>(attempt: () => Promise<T>, budget: 'write' | 'read') => Promise<T>;

export interface CallDeps {
  until: CallLoop;
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

function onExchange(deps: CallDeps, run: ActionRun, what: CallSubject, read: boolean) {
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
  run: ActionRun,
  spec: GraphRequestSpec,
  what: CallSubject,
): Promise<WriteAnswer> {
  const res = await deps.until(
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
    'write',
  );
  return { status: res.status, ...(res.requestId ? { requestId: res.requestId } : {}), at: res.at };
}

/** A GET of one resource or page, parsed, on the read budget. */
export async function read<T>(
  deps: CallDeps,
  run: ActionRun,
  spec: GraphRequestSpec,
  what: CallSubject,
): Promise<GraphPage<T>> {
  return deps.until(
    () =>
      graphRead<T>(deps.reads, {
        path: spec.path,
        subject: run.data.user,
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(deps.wait ? { wait: deps.wait } : {}),
        onExchange: onExchange(deps, run, what, true),
      }),
    'read',
  );
}
