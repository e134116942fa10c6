// The shared pace of Graph calls across every worker process: GCRA through one Lua script on Redis
// (evenly spaced calls just under the limit, no burst), the global Retry-After gate, and an adaptive
// factor that drops on 429 and climbs back slowly. Inside a process, waiters queue locally so only
// one of them polls Redis at a time (one round trip per slot per process, not per job).
import type { RateLimit } from '../config/parse.js';
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';
import { runScript } from './lua/scripts.js';
import { sleep } from './sleep.js';

export interface PacerOptions {
  redis: RedisClient;
  prefix: string;
  /** Limit per window shared by all workers (GRAPH_RATE_LIMIT). */
  rate: RateLimit;
  /** Fraction of the limit to aim for. Default 0.97: a sliding window at exactly the limit is never exceeded. */
  headroom?: number;
  /** Factor multiplier on a 429. Default 0.7. */
  cut?: number;
  /** Lowest factor. Default 0.1. */
  floor?: number;
  /** Factor regained per successful call. Default 0.01 (30 successes undo one cut). */
  step?: number;
  /** Fraction of an interval a late caller may keep the grid by (absorbs timer lateness). Default 0.05. */
  catchUp?: number;
  /** While this key exists no call starts (the circuit). Default the circuit key; null = none. */
  holdKey?: string | null;
  /** Longest single sleep before asking again, so a hold or a shorter gate is noticed. Default 5 s. */
  maxSleepMs?: number;
}

/** The hold key exists (the circuit is open): no Graph call may start. */
export class PacerHoldError extends Error {
  override readonly name = 'PacerHoldError';
}

export interface ThrottleReport {
  /** Epoch ms until which no call starts, 0 when no gate is in force. */
  gateUntil: number;
  factor: number;
}

export interface Pacer {
  /** 0 = a slot was taken, go now; > 0 = ms to wait before asking again. Throws PacerHoldError. */
  acquire(): Promise<number>;
  /** Waits (in local FIFO order) until a slot is taken. Rejects with the signal's reason or PacerHoldError. */
  take(signal?: AbortSignal): Promise<{ waitedMs: number }>;
  /**
   * A throttling answer arrived: with a Retry-After, no process starts a call before it has elapsed
   * (gate = max(gate, now + retryAfter)); `slowDown` (default true) also cuts the shared factor.
   */
  onThrottled(retryAfterMs: number | undefined, opts?: { slowDown?: boolean }): Promise<ThrottleReport>;
  /** Counts a success; credited to the factor with the next acquire (no extra round trip). */
  onSuccess(): void;
}

export function createPacer(opts: PacerOptions): Pacer {
  const headroom = opts.headroom ?? 0.97;
  const cut = opts.cut ?? 0.7;
  const floor = opts.floor ?? 0.1;
  const step = opts.step ?? 0.01;
  const catchUp = opts.catchUp ?? 0.05;
  const maxSleepMs = opts.maxSleepMs ?? 5000;
  const { limit, windowMs } = opts.rate;
  if (!(limit > 0 && windowMs > 0)) throw new RangeError('rate limit and window must be positive');
  if (!(headroom > 0 && headroom <= 1)) throw new RangeError('headroom must be in (0, 1]');
  const intervalMs = windowMs / (limit * headroom);
  const pacerKey = keys.pacer(opts.prefix);
  const gateKey = keys.throttleGate(opts.prefix);
  const holdKey = opts.holdKey === undefined ? keys.circuit(opts.prefix) : opts.holdKey;
  let credit = 0;
  let queue: Promise<unknown> = Promise.resolve();

  async function acquire(): Promise<number> {
    const give = credit;
    credit = 0;
    let reply: unknown;
    try {
      reply = await runScript(
        opts.redis,
        'acquire',
        [pacerKey, gateKey, holdKey ?? pacerKey],
        [intervalMs, give, step, catchUp, holdKey ? '1' : '0'],
      );
    } catch (err) {
      credit += give;
      throw err;
    }
    const wait = Number((reply as [number, string])[0]);
    if (wait < 0) throw new PacerHoldError('calls are held: the circuit is open');
    return wait;
  }

  async function waitForSlot(signal?: AbortSignal): Promise<{ waitedMs: number }> {
    const started = Date.now();
    for (;;) {
      signal?.throwIfAborted();
      const wait = await acquire();
      if (wait === 0) return { waitedMs: Date.now() - started };
      await sleep(Math.min(wait, maxSleepMs), signal);
    }
  }

  return {
    acquire,
    take(signal) {
      const turn = queue.then(() => waitForSlot(signal));
      queue = turn.catch(() => undefined);
      if (!signal) return turn;
      // A waiter aborted while queued leaves at once; when its turn comes it takes no slot.
      return new Promise((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        turn.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
    async onThrottled(retryAfterMs, o = {}) {
      const slowDown = o.slowDown ?? true;
      const ra = retryAfterMs === undefined ? -1 : Math.max(0, Math.ceil(retryAfterMs));
      const reply = (await runScript(
        opts.redis,
        'throttled',
        [pacerKey, gateKey],
        [ra, slowDown ? cut : 1, floor, Math.max(1000, ra)],
      )) as [string, string];
      return { gateUntil: Number(reply[0]), factor: Number(reply[1]) };
    },
    onSuccess() {
      credit += 1;
    },
  };
}
