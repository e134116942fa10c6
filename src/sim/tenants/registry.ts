// The tenants behind the simulator's app: the default one (the simulator's `tenantId`, sharing its
// limiter, windows and directory) plus those added by option or control, or created on first sight
// when `autoCreateTenants` is on. Also Graph's per-app cap across all tenants (130,000 per 10 s).
import { SlidingWindow } from '../graph/limiter.js';
import type { WindowLimit } from '../limits.js';
import type { SimTenant, SimTenantSettings } from './tenant.js';

export const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Raised for a tenant id that is not a GUID (Entra tenant ids are). */
export class InvalidTenantIdError extends Error {
  override readonly name = 'InvalidTenantIdError';
}

export class SimTenants {
  private readonly byId = new Map<string, SimTenant>();
  private readonly acrossTenants = new Map<string, SlidingWindow>();
  /** Any GUID authority becomes a tenant the first time a token is asked for it. */
  autoCreate = false;
  /** Calls per app across every tenant (Graph: 130,000 per 10 s); null = unlimited. */
  appLimitAcrossTenants: WindowLimit | null = null;

  constructor(
    readonly defaultTenant: SimTenant,
    private readonly make: (id: string) => SimTenant,
  ) {
    this.byId.set(defaultTenant.id, defaultTenant);
  }

  get(id: string | undefined): SimTenant | undefined {
    return id === undefined ? undefined : this.byId.get(id.toLowerCase());
  }

  /** The tenant for an authority segment at the token endpoint, creating it when autoCreate allows. */
  forAuthority(segment: string): SimTenant | undefined {
    const id = segment.toLowerCase();
    const known = this.byId.get(id);
    if (known || !this.autoCreate || !TENANT_ID.test(id)) return known;
    return this.upsert(id, {});
  }

  upsert(id: string, settings: SimTenantSettings): SimTenant {
    const key = id.toLowerCase();
    if (!TENANT_ID.test(key)) throw new InvalidTenantIdError(`tenant id '${id}' is not a GUID`);
    let tenant = this.byId.get(key);
    if (!tenant) {
      tenant = this.make(key);
      this.byId.set(key, tenant);
    }
    tenant.apply(settings);
    return tenant;
  }

  all(): SimTenant[] {
    return [...this.byId.values()];
  }

  /** More than the default tenant: per-tenant stats are then reported. */
  get multi(): boolean {
    return this.byId.size > 1;
  }

  /** 0 when the app may call now under the cross-tenant cap, else ms to wait. */
  waitAcrossTenants(appId: string, now: number): number {
    const limit = this.appLimitAcrossTenants;
    return limit ? this.window(appId).waitMs(now, limit) : 0;
  }

  /** An admitted call counts against the cross-tenant cap. */
  recordAcrossTenants(appId: string, now: number): void {
    if (this.appLimitAcrossTenants) this.window(appId).record(now);
  }

  private window(appId: string): SlidingWindow {
    let w = this.acrossTenants.get(appId);
    if (!w) {
      w = new SlidingWindow();
      this.acrossTenants.set(appId, w);
    }
    return w;
  }

  reset(): void {
    this.acrossTenants.clear();
    for (const t of this.byId.values()) t.reset();
  }

  close(): void {
    for (const t of this.byId.values()) t.close();
  }
}
