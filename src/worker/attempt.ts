// One Graph call for a job, paced and recorded: every call (success or not) appends an `attempt`
// audit entry and bumps the fleet metrics, because a POST that timed out may have been applied anyway
// and support needs its request-id. The job's progress (its counters in BullMQ) is written only when
// the call failed, i.e. when another processing run may need it: after a 2xx the record returned to
// BullMQ carries the same counts. The answer also feeds the pace: a 429 always slows the fleet, a 5xx,
// timeout or connection error only when it is systemic (pacer.onFailure), a healthy answer regains it.
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { Config } from '../config/load.js';
import { removeAllDevicesFromManagement } from '../graph/client.js';
import {
  GraphBadRequestError,
  GraphError,
  GraphNetworkError,
  GraphNotFoundError,
  GraphThrottledError,
  GraphTimeoutError,
} from '../graph/errors.js';
import type {
  AuditEntry,
  GraphSuccess,
  RetireJobData,
  RetireProgress,
  RetireRecord,
  TokenProvider,
} from '../interfaces.js';
import type { Pacer } from '../pacing/pacer.js';
import { sleep } from '../pacing/sleep.js';
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
import { retryAfterOf } from './retry-policy.js';

export type GraphCall = typeof removeAllDevicesFromManagement;

export interface AttemptDeps {
  ctx: AuditContext & { config: Config };
  pacer: Pacer;
  tokenProvider: TokenProvider;
  actor: string;
  /** The Graph call; the real client unless a caller substitutes another transport. */
  graphCall?: GraphCall;
}

/** What one processing run of a job carries between calls. */
export interface JobRun {
  job: Job<RetireJobData, RetireRecord>;
  data: RetireJobData;
  progress: RetireProgress;
  /** Set after a 401: the next token is fetched past the cache, once. */
  forceRefresh: boolean;
  /**
   * The `attempt` entry of a 2xx call, written by the processor in the same pipeline as the outcome
   * entry that follows at once (one round trip instead of two on the success path).
   */
  pendingAudit?: AuditEntry[];
  /** When the call that Graph answered 2xx was sent (the evidence's action time). */
  actionAt?: string;
}

export interface CallSignals {
  /** Shutdown or cancellation: stops waiting for a slot (no call was started). */
  wait?: AbortSignal;
  /** Cancellation only: aborts a call on the wire. Shutdown lets calls in flight finish. */
  call?: AbortSignal;
}

/** Takes a pacer slot, gets a token and calls Graph once. Resolves on 2xx, rethrows the typed error. */
export async function attemptCall(
  deps: AttemptDeps,
  run: JobRun,
  signals: CallSignals,
): Promise<GraphSuccess> {
  const { config } = deps.ctx;
  // Token first: a slot taken and then spent waiting for the token endpoint would land the call late,
  // bunched with the next slot's call. After the wait the token comes from the cache (a long gate
  // may have let it near expiry, and the provider renews it then).
  await deps.tokenProvider.getToken(run.forceRefresh ? { forceRefresh: true } : undefined);
  run.forceRefresh = false;
  await deps.pacer.take(signals.wait);
  let token = await deps.tokenProvider.getToken();
  // A Retry-After this process heard after the slot was granted: wait it out and take a new slot.
  while (deps.pacer.localGateUntil() > Date.now()) {
    await sleep(deps.pacer.localGateUntil() - Date.now(), signals.wait);
    await deps.pacer.take(signals.wait);
    token = await deps.tokenProvider.getToken();
  }
  const clientRequestId = randomUUID();
  const at = new Date().toISOString();
  const started = performance.now();
  try {
    const res = await (deps.graphCall ?? removeAllDevicesFromManagement)({
      baseUrl: config.graph.baseUrl,
      user: run.data.user,
      token,
      timeoutMs: config.graph.timeoutMs,
      clientRequestId,
      signal: signals.call,
    });
    deps.pacer.onSuccess(run.data.user);
    run.actionAt = at;
    await recordCall(deps, run, {
      at,
      status: res.status,
      requestId: res.requestId,
      clientRequestId,
      durationMs: res.durationMs,
    });
    return res;
  } catch (err) {
    if (!(err instanceof GraphError)) {
      const durationMs = Math.round(performance.now() - started);
      await recordCall(deps, run, {
        at,
        status: null,
        clientRequestId,
        durationMs,
        error: (err as Error)?.name ?? 'Error',
      });
      throw err;
    }
    const retryAfterMs = retryAfterOf(err);
    const throttled = err instanceof GraphThrottledError;
    // The gate goes up before anything else so other processes stop starting calls at once.
    if (throttled) {
      // A 429 is about the app's budget: always an overload signal.
      await deps.pacer.onThrottled(retryAfterMs, { slowDown: true });
    } else if (err.retryable) {
      // A 5xx, timeout or connection error of one user says nothing about the budget: the fleet slows
      // down (and honours its Retry-After globally) only when failures are systemic across users.
      await deps.pacer.onFailure(run.data.user, retryAfterMs);
    } else if (err instanceof GraphNotFoundError || err instanceof GraphBadRequestError) {
      // Graph answered; the problem is the user, not the service.
      deps.pacer.onSuccess(run.data.user);
    }
    const wait = throttled && retryAfterMs !== undefined;
    if (wait) run.progress.throttledWaits += 1;
    await recordCall(
      deps,
      run,
      {
        at,
        status: err.status,
        requestId: err.requestId,
        clientRequestId,
        durationMs: err.durationMs,
        error: err.name,
        code: err.code,
        metricStatus:
          err instanceof GraphTimeoutError
            ? 'timeout'
            : err instanceof GraphNetworkError
              ? 'network'
              : undefined,
      },
      wait ? { retryAfterMs } : undefined,
    );
    throw err;
  }
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
  metricStatus?: 'timeout' | 'network';
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
  const metricStatus = facts.metricStatus ?? facts.status ?? 'network';
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
