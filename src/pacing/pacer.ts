// The shared pace of Graph calls across every worker process: GCRA through one Lua script on Redis
// (evenly spaced calls just under the limit, no burst), the global Retry-After gate, and an adaptive
// factor made of two parts: the 429 factor (down on every 429 episode, back up slowly: the app's
// budget is shared with other apps) and the health factor (down only when 5xx, timeouts and
// connection errors are systemic across distinct users, back up quickly once calls succeed again).
// Inside a process, waiters queue locally and one of them polls Redis for all: a grant may cover
// several waiters when the pace has several slots due at once (one round trip, not one per call).
import type { RateLimit } from '../config/parse.js';
import { runScript } from '../lua/scripts.js';
import { keys, ownKey } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';
import { sleep } from './sleep.js';

export interface PacerOptions {
  redis: RedisClient;
  prefix: string;
  /** Limit per window shared by all workers (GRAPH_RATE_LIMIT). */
  rate: RateLimit;
  /** Fraction of the limit to aim for. Default 0.97: a sliding window at exactly the limit is never exceeded. */
  headroom?: number;
  /** 429 factor multiplier per 429 episode. Default 0.7. */
  cut?: number;
  /** Lowest effective factor. Default 0.1. */
  floor?: number;
  /** 429 factor regained per healthy answer. Default 0.02 (15 answers undo one cut): back up gradually. */
  step?: number;
  /** Health factor multiplier on a systemic-failure verdict (at most once a second). Default 0.5. */
  failureCut?: number;
  /** Health factor multiplier per healthy answer. Default 1.25 (from the floor back to 1 in 11 answers). */
  recovery?: number;
  /** Failure judge (PACE_FAILURE_*): window, systemic share of distinct users, minimum sample. */
  failure?: { windowMs: number; share: number; minUsers: number };
  /** How long the shared window keeps a user: the longest window any judge reads (e.g. the 403 one). */
  healthKeepMs?: number;
  /** Fraction of an interval a late caller may keep the grid by (absorbs timer lateness). Default 0.05. */
  catchUp?: number;
  /** While this key exists no call starts (the circuit). Default the circuit key; null = none. */
  holdKey?: string | null;
  /** Longest single sleep before asking again, so a hold or a shorter gate is noticed. Default 5 s. */
  maxSleepMs?: number;
  /** Most slots one acquire may grant to local waiters. Default 32. */
  maxBatch?: number;
  /**
   * Which Graph budget this pacer spends. `write` (default): the retire POSTs, on the keys status pages
   * read. `read`: inventory and verification reads, on their own keys (pace, gate, health window), so a
   * 429 on a read gates reads only and a read never takes a write slot.
   */
  budget?: 'write' | 'read';
  /**
   * The keys of a budget that is not the deployment's (one tenant's, or the global cross-tenant pace);
   * default the `budget`'s keys in src/queue/names.ts.
   */
  keys?: PacerKeys;
  /** The pace hash expires this long after its last grant (an idle tenant leaves no keys). Default never. */
  idleTtlMs?: number;
}

export interface PacerKeys {
  pacer: string;
  gate: string;
  window: string;
  failing: string;
  run: string;
}

/** The hold key exists (the circuit is open): no Graph call may start. */
export class PacerHoldError extends Error {
  override readonly name = 'PacerHoldError';
}

export interface ThrottleReport {
  /** Epoch ms until which no call starts, 0 when no gate is in force. */
  gateUntil: number;
  /** Effective factor (429 factor × health factor). */
  factor: number;
}

export interface FailureVerdict extends ThrottleReport {
  /** The failure is systemic: the fleet was slowed down (and gated on its Retry-After). */
  systemic: boolean;
  /** Distinct users inside the window whose latest call failed, and distinct users called in it. */
  failing: number;
  sample: number;
}

export interface Pacer {
  /** 0 = a slot was taken, go now; > 0 = ms to wait before asking again. Throws PacerHoldError. */
  acquire(): Promise<number>;
  /**
   * As acquire, and a slot due within `aheadMs` is taken now: `reserved` with `wait` = ms until it
   * (the caller sleeps that long, then calls without asking again). Not reserved: `wait` as acquire.
   */
  reserve(aheadMs: number): Promise<{ wait: number; reserved: boolean }>;
  /**
   * A call goes out `ms` after its slot (an event-loop stall): the slots not yet taken move back by
   * that much, so the window a whole window after it does not hold one call too many.
   */
  shift(ms: number): Promise<void>;
  /** Epoch ms until which the shared gate (Redis) holds every process; 0 when none is in force. */
  sharedGateUntil(): Promise<number>;
  /** Waits (in local FIFO order) until a slot is taken. Rejects with the signal's reason or PacerHoldError. */
  take(signal?: AbortSignal): Promise<{ waitedMs: number }>;
  /**
   * A 429 arrived: with a Retry-After, no process starts a call before it has elapsed
   * (gate = max(gate, now + retryAfter)); `slowDown` (default true) also cuts the 429 factor.
   */
  onThrottled(retryAfterMs: number | undefined, opts?: { slowDown?: boolean }): Promise<ThrottleReport>;
  /**
   * A 5xx, timeout or connection error for `user`: recorded in the shared window; only when failures
   * are systemic does the fleet slow down and a Retry-After become the global gate.
   */
  onFailure(user: string, retryAfterMs: number | undefined): Promise<FailureVerdict>;
  /**
   * A healthy answer (2xx, or a 4xx that is about the user: Graph itself works). Buffered and sent
   * with the next acquire (no extra round trip): regains the pace, counts in the failure window.
   */
  onSuccess(user?: string): void;
  /**
   * Epoch ms until which this process knows no call may start: set the moment this process hears a
   * Retry-After, before Redis has it. Checked right before a call, so a slot granted just before the
   * 429 arrived does not go out inside the window (the Redis gate covers the other processes).
   */
  localGateUntil(): number;
}

interface Waiter {
  resolve: (v: { waitedMs: number }) => void;
  reject: (err: unknown) => void;
  started: number;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export function createPacer(opts: PacerOptions): Pacer {
  const headroom = opts.headroom ?? 0.97;
  const cut = opts.cut ?? 0.7;
  const floor = opts.floor ?? 0.1;
  const step = opts.step ?? 0.02;
  const failureCut = opts.failureCut ?? 0.5;
  const recovery = opts.recovery ?? 1.25;
  const failure = opts.failure ?? { windowMs: 5000, share: 0.5, minUsers: 20 };
  const keepMs = Math.max(failure.windowMs, opts.healthKeepMs ?? 0);
  const catchUp = opts.catchUp ?? 0.05;
  const maxSleepMs = opts.maxSleepMs ?? 5000;
  const maxBatch = opts.maxBatch ?? 32;
  const { limit, windowMs } = opts.rate;
  if (!(limit > 0 && windowMs > 0)) throw new RangeError('rate limit and window must be positive');
  if (!(headroom > 0 && headroom <= 1)) throw new RangeError('headroom must be in (0, 1]');
  const intervalMs = windowMs / (limit * headroom);
  const read = opts.budget === 'read';
  const k = opts.keys;
  const pacerKey = k?.pacer ?? (read ? keys.readPacer(opts.prefix) : keys.pacer(opts.prefix));
  const gateKey = k?.gate ?? (read ? keys.readThrottleGate(opts.prefix) : keys.throttleGate(opts.prefix));
  const windowKey = k?.window ?? (read ? keys.readHealthWindow(opts.prefix) : keys.healthWindow(opts.prefix));
  const failingKey = k?.failing ?? ownKey(opts.prefix, 'health', ...(read ? ['read'] : []), 'failing');
  const runKey = k?.run ?? ownKey(opts.prefix, 'health', ...(read ? ['read'] : []), 'failure-run');
  const idleTtl = Math.ceil(opts.idleTtlMs ?? 0);
  const holdKey = opts.holdKey === undefined ? keys.circuit(opts.prefix) : opts.holdKey;
  let credit = 0;
  let localGate = 0;
  let healthy = new Set<string>();
  const waiters: Waiter[] = [];
  let pumping = false;

  /** One round trip: returns [wait, granted] (granted 1 with wait > 0: reserved, see `reserve`). */
  async function poll(want: number, aheadMs = 0): Promise<[number, number]> {
    const give = credit;
    const users = healthy;
    credit = 0;
    healthy = new Set();
    let reply: unknown;
    try {
      reply = await runScript(
        opts.redis,
        'pacer/acquire',
        [pacerKey, gateKey, holdKey ?? pacerKey, windowKey, failingKey, runKey],
        [
          intervalMs,
          give,
          step,
          catchUp,
          holdKey ? '1' : '0',
          want,
          recovery,
          keepMs,
          idleTtl,
          Math.max(0, Math.floor(aheadMs)),
          ...users,
        ],
      );
    } catch (err) {
      credit += give;
      for (const u of users) healthy.add(u);
      throw err;
    }
    const [wait, , granted] = reply as [number, string, number];
    if (Number(wait) < 0) throw new PacerHoldError('calls are held: the circuit is open');
    return [Number(wait), Number(granted)];
  }

  function settle(w: Waiter, fn: () => void): void {
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
    fn();
  }

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (waiters.length > 0) {
        let wait: number;
        let granted: number;
        try {
          [wait, granted] = await poll(Math.min(waiters.length, maxBatch));
        } catch (err) {
          // A hold or a Redis error: every waiter hears it (each would have got the same answer).
          for (const w of waiters.splice(0)) settle(w, () => w.reject(err));
          return;
        }
        if (wait === 0) {
          const now = Date.now();
          for (const w of waiters.splice(0, Math.max(1, granted))) {
            settle(w, () => w.resolve({ waitedMs: now - w.started }));
          }
          // Slots granted beyond the waiters still here (one aborted meanwhile) are simply unused.
          continue;
        }
        // The first waiter's signal ends the sleep early so an aborted head does not hold the rest.
        const head = waiters[0];
        await sleep(Math.min(wait, maxSleepMs), head?.signal).catch(() => undefined);
      }
    } finally {
      pumping = false;
    }
  }

  return {
    async acquire() {
      const [wait] = await poll(1);
      return wait;
    },
    async reserve(aheadMs) {
      const [wait, granted] = await poll(1, aheadMs);
      return { wait, reserved: granted > 0 };
    },
    async sharedGateUntil() {
      return Number((await opts.redis.get(gateKey)) ?? 0) || 0;
    },
    async shift(ms) {
      if (!(ms > 0)) return;
      const m = opts.redis.multi().hincrbyfloat(pacerKey, 'tat', ms.toFixed(3));
      // An idle pace hash still expires (a missing one is created by the increment).
      if (idleTtl > 0) m.pexpire(pacerKey, idleTtl);
      await m.exec();
    },
    take(signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const w: Waiter = { resolve, reject, started: Date.now(), signal };
        if (signal) {
          // A waiter aborted while queued leaves at once and takes no slot.
          w.onAbort = () => {
            const i = waiters.indexOf(w);
            if (i >= 0) waiters.splice(i, 1);
            reject(signal.reason);
          };
          signal.addEventListener('abort', w.onAbort, { once: true });
        }
        waiters.push(w);
        void pump();
      });
    },
    async onThrottled(retryAfterMs, o = {}) {
      const slowDown = o.slowDown ?? true;
      const ra = retryAfterMs === undefined ? -1 : Math.max(0, Math.ceil(retryAfterMs));
      if (ra >= 0) localGate = Math.max(localGate, Date.now() + ra);
      const reply = (await runScript(
        opts.redis,
        'pacer/throttled',
        [pacerKey, gateKey],
        [ra, slowDown ? cut : 1, floor, Math.max(1000, ra)],
      )) as [string, string];
      localGate = Math.max(localGate, Number(reply[0]));
      return { gateUntil: Number(reply[0]), factor: Number(reply[1]) };
    },
    async onFailure(user, retryAfterMs) {
      healthy.delete(user);
      const ra = retryAfterMs === undefined ? -1 : Math.max(0, Math.ceil(retryAfterMs));
      const reply = (await runScript(
        opts.redis,
        'pacer/health',
        [pacerKey, gateKey, windowKey, failingKey, runKey],
        [user, failure.windowMs, failure.share, failure.minUsers, ra, failureCut, floor, 1000, keepMs],
      )) as [number, number, number, string, string];
      localGate = Math.max(localGate, Number(reply[4]));
      return {
        systemic: Number(reply[0]) === 1,
        failing: Number(reply[1]),
        sample: Number(reply[2]),
        factor: Number(reply[3]),
        gateUntil: Number(reply[4]),
      };
    },
    onSuccess(user) {
      credit += 1;
      if (user !== undefined) healthy.add(user);
    },
    localGateUntil() {
      return localGate;
    },
  };
}
