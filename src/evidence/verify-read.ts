// One verification read of a leaver's devices through graphCall on the READ budget (never a write
// slot), turned into what the verify processor branches on:
//   ok      the device list (every page);
//   later   nothing was learnt and nothing is wrong with this leaver: a read 429 (the read gate is
//           set for every process), the circuit holding calls, a token failure. Not a check.
//   failed  Graph answered but not with the list (403, 404, 5xx, timeout…): a check whose devices
//           keep their last known results; at the deadline they become not_retired with a note.
import { TokenAcquisitionError } from '../entra/errors.js';
import { exchangeStatus, type GraphCallContext, graphReadAll } from '../graph/call.js';
import { managedDevicesPath, toDevices } from '../graph/devices.js';
import { GraphError, GraphThrottledError } from '../graph/errors.js';
import type { ManagedDevice } from '../interfaces.js';
import { PacerHoldError } from '../pacing/pacer.js';
import { incrementMetrics } from '../records/metrics.js';
import type { RedisClient } from '../redis/connection.js';

/** Wait before trying again when a read could not even be attempted (circuit, token) or a 429 had no Retry-After. */
export const READ_LATER_MS = 30_000;

export type ReadOutcome =
  | { kind: 'ok'; devices: ManagedDevice[]; requestIds: string[]; pages: number }
  | { kind: 'later'; delayMs: number; reason: 'throttled' | 'held' | 'token' }
  | { kind: 'failed'; status: number | null; code?: string; requestId?: string; error: string };

export interface VerifyReadDeps {
  redis: RedisClient;
  prefix: string;
  /** The READ budget's call context: its pacer is the read pacer. */
  graph: GraphCallContext;
  signal?: AbortSignal;
}

/** One read of the leaver's devices (every page), paced, fed back and refreshed once by graphCall. */
export async function readDevicesForVerification(deps: VerifyReadDeps, user: string): Promise<ReadOutcome> {
  try {
    const list = await graphReadAll(deps.graph, {
      path: managedDevicesPath(user),
      subject: user,
      ...(deps.signal ? { wait: deps.signal, call: deps.signal } : {}),
      onExchange: (e) => {
        incrementMetrics(deps.redis, deps.prefix, { [`read_calls:${exchangeStatus(e)}`]: 1 }).catch(
          () => undefined,
        );
      },
    });
    return { kind: 'ok', devices: toDevices(list.value), requestIds: list.requestIds, pages: list.pages };
  } catch (err) {
    if (deps.signal?.aborted) throw err;
    if (err instanceof PacerHoldError) return { kind: 'later', delayMs: READ_LATER_MS, reason: 'held' };
    if (err instanceof TokenAcquisitionError) {
      return { kind: 'later', delayMs: Math.max(err.retryAfterMs ?? 0, READ_LATER_MS), reason: 'token' };
    }
    if (err instanceof GraphThrottledError) {
      return { kind: 'later', delayMs: err.retryAfterMs ?? READ_LATER_MS, reason: 'throttled' };
    }
    if (err instanceof GraphError) {
      return {
        kind: 'failed',
        status: err.status,
        code: err.code,
        requestId: err.requestId,
        error: err.name,
      };
    }
    // A tampered nextLink, a paging loop: the read failed, the leaver's state is unknown.
    return { kind: 'failed', status: null, error: (err as Error)?.name ?? 'Error' };
  }
}
