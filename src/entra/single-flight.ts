// MSAL does not merge concurrent acquisitions: twenty jobs asking at once would send twenty token
// requests. One acquisition per process is in flight at a time and every concurrent caller shares it.

export interface SingleFlight<T> {
  /**
   * Joins the acquisition in flight, or starts one. A forced caller joins only a forced acquisition:
   * joining an unforced one could hand back the very token it was asked to replace. Otherwise it
   * queues one forced acquisition behind the current one, shared by every forced caller meanwhile.
   */
  run(forced?: boolean): Promise<T>;
  /** Whether an acquisition is in flight or queued (for tests and diagnostics). */
  busy(): boolean;
}

export function createSingleFlight<T>(fn: (forced: boolean) => Promise<T>): SingleFlight<T> {
  let inFlight: { promise: Promise<T>; forced: boolean } | undefined;
  let queued: Promise<T> | undefined;

  const launch = (forced: boolean): Promise<T> => {
    const promise: Promise<T> = Promise.resolve()
      .then(() => fn(forced))
      .finally(() => {
        if (inFlight?.promise === promise) inFlight = undefined;
      });
    inFlight = { promise, forced };
    return promise;
  };

  return {
    run(forced = false) {
      if (inFlight && (!forced || inFlight.forced)) return inFlight.promise;
      // A forced acquisition is already queued (or about to start): it is fresh enough for anyone.
      if (queued) return queued;
      if (!inFlight) return launch(forced);
      const settle = () => undefined;
      const next: Promise<T> = inFlight.promise.then(settle, settle).then(() => {
        if (queued === next) queued = undefined;
        return launch(true);
      });
      queued = next;
      return next;
    },
    busy() {
      return inFlight !== undefined || queued !== undefined;
    },
  };
}
