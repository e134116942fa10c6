// Counters of one simulated tenant: what the multi-tenant benchmark and tests read per tenant (calls,
// 429s, calls inside that tenant's announced windows, token requests, other apps' traffic, and when
// each user's first Graph call arrived: the enqueue → first call latency is measured from it).

export interface TenantStats {
  /** Retire actions attributed to this tenant (by the token's `tid`). */
  calls: number;
  byStatus: Record<string, number>;
  /** 2xx answers to the retire action. */
  succeeded: number;
  throttled: number;
  /** Calls inside one of this tenant's announced Retry-After windows, after the grace period. */
  insideRetryAfterWindow: number;
  inFlightAtAnnouncement: number;
  firstCallAt: number | null;
  lastCallAt: number | null;
  /** Device reads (managedDevices) of this tenant. */
  reads: { calls: number; throttled: number; insideRetryAfterWindow: number };
  token: { requests: number; failures: number; issued: number };
  /** Injected calls of other apps into this tenant's cross-app budget: admitted, and refused as over it. */
  otherApps: { admitted: number; throttled: number };
  /** User → arrival time (ms since the epoch) of that user's first retire call. Left out of cheap snapshots. */
  firstCallByUser: Record<string, number>;
}

export class TenantStatsCollector {
  private s = empty();

  reset(): void {
    this.s = empty();
  }

  arrived(user: string, now: number): void {
    const s = this.s;
    s.calls++;
    s.firstCallAt ??= now;
    s.lastCallAt = now;
    if (!(user in s.firstCallByUser)) s.firstCallByUser[user] = now;
  }

  /** `status` 0 = never answered. */
  finished(status: number): void {
    const key = status === 0 ? 'hang' : String(status);
    this.s.byStatus[key] = (this.s.byStatus[key] ?? 0) + 1;
    if (status >= 200 && status < 300) this.s.succeeded++;
    if (status === 429) this.s.throttled++;
  }

  windowViolation(): void {
    this.s.insideRetryAfterWindow++;
  }

  inFlightAtAnnouncement(): void {
    this.s.inFlightAtAnnouncement++;
  }

  read(status: number): void {
    this.s.reads.calls++;
    if (status === 429) this.s.reads.throttled++;
  }

  readViolation(): void {
    this.s.reads.insideRetryAfterWindow++;
  }

  tokenRequest(): void {
    this.s.token.requests++;
  }

  tokenFailure(): void {
    this.s.token.failures++;
  }

  tokenIssued(): void {
    this.s.token.issued++;
  }

  otherApp(admitted: boolean): void {
    if (admitted) this.s.otherApps.admitted++;
    else this.s.otherApps.throttled++;
  }

  snapshot(includeUsers: boolean): TenantStats {
    const { firstCallByUser, ...rest } = this.s;
    const copy = structuredClone({ ...rest, firstCallByUser: {} as Record<string, number> });
    if (includeUsers) copy.firstCallByUser = { ...firstCallByUser };
    return copy;
  }
}

function empty(): TenantStats {
  return {
    calls: 0,
    byStatus: {},
    succeeded: 0,
    throttled: 0,
    insideRetryAfterWindow: 0,
    inFlightAtAnnouncement: 0,
    firstCallAt: null,
    lastCallAt: null,
    reads: { calls: 0, throttled: 0, insideRetryAfterWindow: 0 },
    token: { requests: 0, failures: 0, issued: 0 },
    otherApps: { admitted: 0, throttled: 0 },
    firstCallByUser: {},
  };
}
