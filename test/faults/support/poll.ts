// Poll-until with a deadline: fault tests never assert after a fixed sleep, they wait for a state
// and fail with a description of the last thing they saw.

export interface WaitOptions {
  timeoutMs: number;
  /** Default 250 ms. */
  intervalMs?: number;
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/** Thrown by a probe when waiting longer is pointless (the state can no longer become right). */
export class StopWaiting extends Error {
  override readonly name: string = 'StopWaiting';
}

/**
 * Calls `probe` until it returns a value that is not undefined, null or false. Errors thrown by the
 * probe (Redis restarting, API not yet listening) count as "not yet" and are quoted on timeout,
 * except StopWaiting, which fails at once.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  opts: WaitOptions,
  describe?: () => Promise<string> | string,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      let state = '';
      try {
        state = describe ? await describe() : '';
      } catch (err) {
        state = `(describe failed: ${(err as Error).message})`;
      }
      const tail = lastError ? `; last error: ${(lastError as Error).message}` : '';
      throw new WaitTimeoutError(`timed out after ${opts.timeoutMs} ms waiting for ${what}${tail}; ${state}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
