// One Graph call for a job, paced and recorded: every call (success or not) appends an `attempt`
// audit entry and bumps the fleet metrics, because a POST that timed out may have been applied anyway
// and support needs its request-id. The job's progress (its counters in BullMQ) is written only when
// the call failed, i.e. when another processing run may need it: after a 2xx the record returned to
// BullMQ carries the same counts. Pacing, the gate, the pace feedback and the 401 refresh are
// graphCall's (src/graph/call.ts), the same for every Graph call of the product.
import type { Job } from 'bullmq';
import type { Config } from '../config/load.js';
import { type Exchange, exchangeStatus, type GraphCallContext, graphCall } from '../graph/call.js';
import { GraphError, GraphThrottledError } from '../graph/errors.js';
import { userActionPath } from '../graph/url.js';
import type {
  AuditEntry,
  DeviceActionResult,
  GraphSuccess,
  RetireJobData,
  RetireProgress,
  RetireRecord,
} from '../interfaces.js';
import { type AuditContext, appendAudit } from '../records/audit.js';
import {
  bufferHashIncrement,
  bufferIncrement,
  graphCallFields,
  incrementMetrics,
  type MetricFields,
} from '../records/metrics.js';
import {
  callClass,
  countGraphCallMinute,
  MINUTE_RETENTION_MINUTES,
  minuteKey,
} from '../records/minute-counters.js';

export interface AttemptDeps {
  ctx: AuditContext & { config: Config };
  /** The write budget's call context (pacer, token provider, circuit, transport). */
  graph: GraphCallContext;
  actor: string;
}

/** What one processing run of a job carries between calls. */
export interface JobRun {
  job: Job<RetireJobData, RetireRecord>;
  data: RetireJobData;
  progress: RetireProgress;
  /**
   * The `attempt` entry of a 2xx call, written by the processor in the same pipeline as the outcome
   * entry that follows at once (one round trip instead of two on the success path).
   */
  pendingAudit?: AuditEntry[];
  /** When the call that Graph answered 2xx was sent (the evidence's action time). */
  actionAt?: string;
  /** With a device policy: the results (or the dry run's plan) and the profile, for the record. */
  deviceActions?: DeviceActionResult[];
  devicePolicy?: string;
}

export interface CallSignals {
  /** Shutdown or cancellation: stops waiting for a slot (no call was started). */
  wait?: AbortSignal;
  /** Cancellation only: aborts a call on the wire. Shutdown lets calls in flight finish. */
  call?: AbortSignal;
}

/**
 * The retire POST once through graphCall (token, write slot, gate, feedback, one 401 refresh), every
 * exchange recorded. Resolves on 2xx, rethrows the typed error.
 */
export async function attemptCall(
  deps: AttemptDeps,
  run: JobRun,
  signals: CallSignals,
): Promise<GraphSuccess> {
  const res = await graphCall(deps.graph, {
    method: 'POST',
    path: userActionPath(run.data.user),
    subject: run.data.user,
    ...(signals.wait ? { wait: signals.wait } : {}),
    ...(signals.call ? { call: signals.call } : {}),
    onExchange: (e) => recordExchange(deps, run, e),
  });
  run.actionAt = res.at;
  return {
    status: res.status,
    requestId: res.requestId,
    clientRequestId: res.clientRequestId,
    durationMs: res.durationMs,
  };
}

function recordExchange(deps: AttemptDeps, run: JobRun, e: Exchange): Promise<void> {
  const { error: err, ...facts } = e;
  if (err === undefined) return recordCall(deps, run, { ...facts, metricStatus: exchangeStatus(e) });
  const g = err instanceof GraphError ? err : undefined;
  // A 429 with Retry-After is a throttled wait (the gate makes the next try wait), not a failure.
  const wait = err instanceof GraphThrottledError && err.retryAfterMs !== undefined;
  if (wait) run.progress.throttledWaits += 1;
  return recordCall(
    deps,
    run,
    {
      ...facts,
      error: (err as Error)?.name ?? 'Error',
      ...(g?.code ? { code: g.code } : {}),
      metricStatus: exchangeStatus(e),
    },
    wait ? { retryAfterMs: (err as GraphThrottledError).retryAfterMs } : undefined,
  );
}

/** The `attempt` entry's details, in the order readers show them; no conditional spreads (hot path). */
function callDetails(call: number, facts: CallFacts): Record<string, unknown> {
  const d: Record<string, unknown> = { call, status: facts.status };
  if (facts.requestId) d.requestId = facts.requestId;
  d.clientRequestId = facts.clientRequestId;
  d.durationMs = facts.durationMs;
  if (facts.error) d.error = facts.error;
  if (facts.code) d.code = facts.code;
  return d;
}

interface CallFacts {
  at: string;
  status: number | null;
  requestId?: string;
  clientRequestId: string;
  durationMs: number;
  error?: string;
  code?: string;
  metricStatus: number | 'timeout' | 'network';
}

async function recordCall(
  deps: AttemptDeps,
  run: JobRun,
  facts: CallFacts,
  throttledWait?: { retryAfterMs: number | undefined },
): Promise<void> {
  const p = run.progress;
  p.graphCalls += 1;
  p.lastStatus = facts.status;
  if (facts.requestId) p.lastRequestId = facts.requestId;
  p.firstAttemptAt ??= facts.at;
  const base = {
    actor: deps.actor,
    jobId: run.job.id,
    user: run.data.user,
    correlationId: run.data.correlationId,
  };
  const entries: AuditEntry[] = [
    {
      ...base,
      type: 'attempt',
      at: facts.at,
      details: callDetails(p.graphCalls, facts),
    },
  ];
  const { metricStatus } = facts;
  const ok = facts.status !== null && facts.status >= 200 && facts.status < 300;
  const fields: MetricFields = graphCallFields(metricStatus, facts.durationMs / 1000);
  if (throttledWait) {
    entries.push({
      ...base,
      type: 'throttled',
      at: new Date().toISOString(),
      details: { retryAfterMs: throttledWait.retryAfterMs, throttledWaits: p.throttledWaits },
    });
    fields.throttled_waits = 1;
  }
  // With the worker's buffer installed this only adds in memory (no promise); else one pipeline.
  if (!bufferIncrement(deps.ctx.redis, deps.ctx.prefix, fields))
    incrementMetrics(deps.ctx.redis, deps.ctx.prefix, fields).catch(() => undefined);
  // The console's per-minute chart: with the worker's counter buffer, one write a second, not a
  // pipeline per call.
  const { redis, prefix } = deps.ctx;
  if (
    !bufferHashIncrement(
      redis,
      prefix,
      minuteKey(prefix, Math.floor(Date.now() / 60_000)),
      { [callClass(metricStatus)]: 1 },
      (MINUTE_RETENTION_MINUTES + 1) * 60,
    )
  )
    countGraphCallMinute(redis, prefix, metricStatus);
  if (ok && !throttledWait) {
    run.pendingAudit = entries;
    return;
  }
  await Promise.all([ok ? undefined : run.job.updateProgress({ ...p }), appendAudit(deps.ctx, entries)]);
}
