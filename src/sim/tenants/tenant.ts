// One Entra tenant behind the simulator's one (multi-tenant) app. Graph attributes every call to the
// tenant in its token's `tid`, so each tenant has its own limiter windows (write per app per tenant,
// the cross-app budget per tenant, reads), its own announced Retry-After windows, consent state,
// 429 switch, injected other-app traffic, directory and counters. The default tenant shares the
// simulator's own limiter, windows and directory, so a one-tenant simulator behaves exactly as before.
import { Limiter } from '../graph/limiter.js';
import { SimDirectory } from '../graph/users.js';
import { AnnouncedWindows } from '../graph/windows.js';
import type { AppLimit, WindowLimit } from '../limits.js';
import { TenantStatsCollector } from './stats.js';

/**
 * What the tenant's admin did to the app:
 * - `granted`: normal.
 * - `revoked`: admin consent (the app role assignments) removed: app tokens carry no roles and Graph
 *   answers 403 Authorization_RequestDenied; user grants fail with AADSTS65001.
 * - `consentRequired`: every grant at the token endpoint fails with AADSTS65001 (invalid_grant,
 *   suberror consent_required): "The user or administrator has not consented to use the application".
 * - `servicePrincipalRemoved`: the app's enterprise application was deleted from the tenant: the token
 *   endpoint answers 401 invalid_client AADSTS7000229 ("missing service principal in the tenant").
 * Switching to the last two also makes Graph refuse (401) the tenant's tokens issued before, so a client
 * holding one meets the token endpoint's error when it fetches the next.
 */
export const CONSENT_STATES = ['granted', 'revoked', 'consentRequired', 'servicePrincipalRemoved'] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];

/** Per-tenant 429 switch: the tenant's retire calls answer 429 with this Retry-After. */
export interface TenantThrottle {
  retryAfter: string;
  /** How many calls answer 429 before the switch turns itself off; absent = until turned off. */
  calls?: number;
}

/** A limit set to this follows the simulator's own again. */
export const FOLLOW = 'default';

/**
 * Settings of one tenant. A limit never set (or set to `default`) follows the simulator's own (`limit`,
 * `readLimit`, `tenantLimit`), as a separate window per tenant; null = unlimited.
 */
export interface SimTenantSettings {
  /** Retire actions per app in this tenant (Intune: 200 per 20 s). */
  limit?: AppLimit | null | typeof FOLLOW;
  /** Device reads per app in this tenant (Intune: 2,000 per 20 s). */
  readLimit?: AppLimit | null | typeof FOLLOW;
  /** Retire actions across all apps in this tenant (Intune: 400 per 20 s); other apps' traffic eats it. */
  tenantLimit?: WindowLimit | null | typeof FOLLOW;
  consent?: ConsentState;
  throttle?: TenantThrottle | null;
  /** Other apps' calls per second into the tenant's cross-app budget (0 = none). */
  otherAppsPerSec?: number;
}

/** The simulator-wide settings a tenant falls back to. */
export interface TenantDefaults {
  limit: AppLimit | null;
  readLimit: AppLimit | null;
  tenantLimit: WindowLimit | null;
}

const OTHER_APPS_TICK_MS = 20;

export class SimTenant {
  readonly stats = new TenantStatsCollector();
  /** Bumped when the tenant stops accepting its earlier tokens (claim `tgen`). */
  generation = 0;
  consent: ConsentState = 'granted';
  throttle: TenantThrottle | null = null;
  private own: { limit?: AppLimit | null; readLimit?: AppLimit | null; tenantLimit?: WindowLimit | null } =
    {};
  private otherAppsPerSec = 0;
  private otherAppsTimer: NodeJS.Timeout | undefined;
  private otherAppsDue = 0;
  private otherAppsLast = 0;

  constructor(
    readonly id: string,
    private readonly defaults: () => TenantDefaults,
    readonly limiter = new Limiter(),
    readonly windows = new AnnouncedWindows(),
    readonly readLimiter = new Limiter(),
    readonly readWindows = new AnnouncedWindows(),
    readonly directory = new SimDirectory(),
    readonly isDefault = false,
  ) {}

  get limit(): AppLimit | null {
    return this.own.limit !== undefined ? this.own.limit : this.defaults().limit;
  }

  get readLimit(): AppLimit | null {
    return this.own.readLimit !== undefined ? this.own.readLimit : this.defaults().readLimit;
  }

  get tenantLimit(): WindowLimit | null {
    return this.own.tenantLimit !== undefined ? this.own.tenantLimit : this.defaults().tenantLimit;
  }

  get otherAppsRate(): number {
    return this.otherAppsPerSec;
  }

  apply(s: SimTenantSettings): void {
    if (s.limit !== undefined) this.own.limit = s.limit === FOLLOW ? undefined : s.limit;
    if (s.readLimit !== undefined) this.own.readLimit = s.readLimit === FOLLOW ? undefined : s.readLimit;
    if (s.tenantLimit !== undefined)
      this.own.tenantLimit = s.tenantLimit === FOLLOW ? undefined : s.tenantLimit;
    if (s.throttle !== undefined) this.throttle = s.throttle ? { ...s.throttle } : null;
    if (s.consent !== undefined && s.consent !== this.consent) {
      this.consent = s.consent;
      if (s.consent === 'consentRequired' || s.consent === 'servicePrincipalRemoved') this.generation++;
    }
    if (s.otherAppsPerSec !== undefined) this.setOtherApps(s.otherAppsPerSec);
  }

  /** The next call's answer from the 429 switch, if it is on (and counts the switch down). */
  takeThrottle(): string | undefined {
    const t = this.throttle;
    if (!t) return undefined;
    if (t.calls !== undefined) {
      t.calls--;
      if (t.calls <= 0) this.throttle = null;
    }
    return t.retryAfter;
  }

  /** Forgets windows and counters (settings stay). */
  reset(): void {
    this.limiter.reset();
    this.windows.reset();
    this.readLimiter.reset();
    this.readWindows.reset();
    this.stats.reset();
  }

  close(): void {
    this.setOtherApps(0);
  }

  /**
   * Other apps' traffic as a steady rate: every tick admits the calls due into the cross-app window
   * (those over the budget are refused, as Intune would refuse them), so this app finds less room.
   */
  private setOtherApps(perSec: number): void {
    this.otherAppsPerSec = perSec;
    if (perSec <= 0) {
      if (this.otherAppsTimer) clearInterval(this.otherAppsTimer);
      this.otherAppsTimer = undefined;
      return;
    }
    if (this.otherAppsTimer) return;
    this.otherAppsLast = Date.now();
    this.otherAppsDue = 0;
    this.otherAppsTimer = setInterval(() => this.otherAppsTick(), OTHER_APPS_TICK_MS);
    this.otherAppsTimer.unref();
  }

  private otherAppsTick(): void {
    const now = Date.now();
    this.otherAppsDue += ((now - this.otherAppsLast) * this.otherAppsPerSec) / 1000;
    this.otherAppsLast = now;
    while (this.otherAppsDue >= 1) {
      this.otherAppsDue--;
      this.stats.otherApp(this.limiter.admitOtherApp(now, this.tenantLimit));
    }
  }
}
