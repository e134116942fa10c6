// One verification read of a leaver's devices, through the READ pacer (never a write slot) and the
// token provider, turned into what the verify processor branches on:
//   ok      the device list (every page);
//   later   nothing was learnt and nothing is wrong with this leaver: a read 429 (the read gate is
//           set for every process), the circuit holding calls, a token failure. Not a check.
//   failed  Graph answered but not with the list (403, 404, 5xx, timeout…): a check whose devices
//           keep their last known results; at the deadline they become not_retired with a note.
import { TokenAcquisitionError } from '../entra/errors.js';
import { listManagedDevices } from '../graph/devices.js';
import {
  GraphError,
  GraphNetworkError,
  GraphThrottledError,
  GraphTimeoutError,
  GraphTransientError,
  GraphUnauthorizedError,
} from '../graph/errors.js';
import type { ManagedDevice, TokenProvider } from '../interfaces.js';
import { type Pacer, PacerHoldError } from '../pacing/pacer.js';
import { sleep } from '../pacing/sleep.js';
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
  baseUrl: string;
  timeoutMs: number;
  readPacer: Pacer;
  tokenProvider: TokenProvider;
  signal?: AbortSignal;
}

function statusLabel(err: unknown): string {
  if (err instanceof GraphTimeoutError) return 'timeout';
  if (err instanceof GraphNetworkError) return 'network';
  if (err instanceof GraphError && err.status !== null) return String(err.status);
  return 'error';
}

export async function readDevicesForVerification(deps: VerifyReadDeps, user: string): Promise<ReadOutcome> {
  let forceRefresh = false;
  const beforePage = async (): Promise<string> => {
    // Token first (as for the inventory): a slot spent waiting for the token endpoint lands late.
    const token = await deps.tokenProvider.getToken(forceRefresh ? { forceRefresh } : undefined);
    forceRefresh = false;
    await deps.readPacer.take(deps.signal);
    // A read Retry-After this process heard after the slot was granted: wait it out, take a new slot.
    while (deps.readPacer.localGateUntil() > Date.now()) {
      await sleep(deps.readPacer.localGateUntil() - Date.now(), deps.signal);
      await deps.readPacer.take(deps.signal);
    }
    return token;
  };
  const count = (status: string) =>
    incrementMetrics(deps.redis, deps.prefix, { [`read_calls:${status}`]: 1 }).catch(() => undefined);
  // One retry inside the read for a rejected token (it may have expired between cache and call).
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const list = await listManagedDevices({
        user,
        baseUrl: deps.baseUrl,
        timeoutMs: deps.timeoutMs,
        signal: deps.signal,
        beforePage,
        afterPage: (r) => {
          void count('ok' in r ? String(r.ok.status) : statusLabel(r.error));
        },
      });
      deps.readPacer.onSuccess(user);
      return { kind: 'ok', devices: list.value, requestIds: list.requestIds, pages: list.pages };
    } catch (err) {
      if (deps.signal?.aborted) throw err;
      if (err instanceof PacerHoldError) return { kind: 'later', delayMs: READ_LATER_MS, reason: 'held' };
      if (err instanceof TokenAcquisitionError) {
        return { kind: 'later', delayMs: Math.max(err.retryAfterMs ?? 0, READ_LATER_MS), reason: 'token' };
      }
      if (err instanceof GraphThrottledError) {
        await deps.readPacer.onThrottled(err.retryAfterMs).catch(() => undefined);
        return { kind: 'later', delayMs: err.retryAfterMs ?? READ_LATER_MS, reason: 'throttled' };
      }
      if (err instanceof GraphUnauthorizedError && attempt === 0) {
        forceRefresh = true;
        continue;
      }
      if (
        err instanceof GraphTransientError ||
        err instanceof GraphTimeoutError ||
        err instanceof GraphNetworkError
      ) {
        const retryAfter = err instanceof GraphTransientError ? err.retryAfterMs : undefined;
        await deps.readPacer.onFailure(user, retryAfter).catch(() => undefined);
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
  return { kind: 'failed', status: 401, error: 'GraphUnauthorizedError' };
}
