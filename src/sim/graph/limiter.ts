// Intune-like throttling: a SLIDING window of admitted calls per app (and optionally per tenant).
// Only admitted calls enter the window. Intune may count rejected calls too, but then a client that
// waits exactly the announced Retry-After would be throttled again, which would make the announced
// value a lie; the simulator keeps it honest so well-behaved clients can be told apart from bad ones.
import type { AppLimit, WindowLimit } from '../limits.js';

export class SlidingWindow {
  private times: number[] = [];
  private head = 0;

  private prune(now: number, windowMs: number): void {
    while (this.head < this.times.length && (this.times[this.head] as number) <= now - windowMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  /** 0 when a call may be admitted now, else ms until enough calls have left the window. */
  waitMs(now: number, limit: WindowLimit): number {
    this.prune(now, limit.windowMs);
    const inWindow = this.times.length - this.head;
    if (inWindow < limit.limit) return 0;
    // Admitting needs at most limit-1 calls left in the window: the (inWindow-limit+1) oldest must go.
    const oldestThatMustLeave = this.times[this.head + inWindow - limit.limit] as number;
    return Math.max(1, oldestThatMustLeave + limit.windowMs - now);
  }

  record(now: number): void {
    this.times.push(now);
  }
}

export class Limiter {
  private readonly perApp = new Map<string, SlidingWindow>();
  private tenant = new SlidingWindow();

  reset(): void {
    this.perApp.clear();
    this.tenant = new SlidingWindow();
  }

  /** Admits (and records) the call, or returns how long until it could be admitted. */
  admit(appId: string, now: number, app: AppLimit | null, tenant: WindowLimit | null): number {
    let window = this.perApp.get(appId);
    if (!window) {
      window = new SlidingWindow();
      this.perApp.set(appId, window);
    }
    const wait = Math.max(app ? window.waitMs(now, app) : 0, tenant ? this.tenant.waitMs(now, tenant) : 0);
    if (wait > 0) return wait;
    window.record(now);
    this.tenant.record(now);
    return 0;
  }

  /**
   * Another app's call into the tenant-wide (cross-app) window only: admitted (and recorded) when it
   * fits, so injected foreign traffic eats the budget this app shares. No tenant limit: nothing to eat.
   */
  admitOtherApp(now: number, tenant: WindowLimit | null): boolean {
    if (!tenant) return true;
    if (this.tenant.waitMs(now, tenant) > 0) return false;
    this.tenant.record(now);
    return true;
  }
}
