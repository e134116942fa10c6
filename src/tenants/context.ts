// Per-tenant context of a worker process, resolved from job.data.tenant: the tenant's token provider
// (its own MSAL client and cache), write pacer with its Retry-After gate, read pacer, and circuit — all
// on keys with the tenant in them (registry.ts) — plus the deployment-wide pacer every tenant's calls
// also take a slot of (GRAPH_GLOBAL_RATE_LIMIT: Graph's cap on one app across tenants). Created
// lazily on a tenant's first job and kept for the life of the process (a few objects per tenant).
import type { Config } from '../config/load.js';
import type { Circuit } from '../control/circuit.js';
import { createTenantTokenProvider } from '../entra/tenant-provider.js';
import type { TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import { createBudgetPacer } from '../pacing/budget-pacer.js';
import { createPacer, type Pacer, type PacerKeys } from '../pacing/pacer.js';
import type { QueueContext } from '../queue/context.js';
import { createTenantCircuit } from './circuit.js';
import { tenantKeys, tenantOf } from './registry.js';
import type { TenantConfig } from './types.js';

export interface TenantContext {
  tenant: TenantConfig;
  tokenProvider: TokenProvider;
  /** The tenant's write budget (its hold key is the tenant's circuit). */
  pacer: Pacer;
  readPacer: Pacer;
  circuit: Circuit;
  /** ms between two writes at full pace: the virtual clock's step (dispatch.ts). */
  intervalMs: number;
  /**
   * How late past its write slot a call may still go: half the spare the headroom leaves in one
   * window (at 200 per 20 s × 0.97: ~300 ms; at the benchmark's 20 per 2 s: ~31 ms). Later, it would
   * share a window with the call a whole window after it and could pass the limit: dispatch.ts moves
   * the tenant's later slots back by the lateness (a little pace lost rather than a 429 and its
   * Retry-After).
   */
  lateMs: number;
  /** This process saw the tenant's circuit open: the next admitted job starts from a clean MSAL client. */
  held: boolean;
  /** A job of this process is getting the tenant's token (dispatch.ts lets one slot wait on it). */
  tokenPending: boolean;
}

export interface TenantContexts {
  /** The context of a configured tenant; undefined for a name the file does not have. */
  get(name: string): TenantContext | undefined;
  /** The deployment-wide pace across every tenant. */
  global: Pacer;
  close(): Promise<void>;
}

export interface TenantContextOptions {
  ctx: QueueContext;
  logger: Logger;
  actor: string;
  /** Replaces the MSAL provider per tenant (tests with a fixed token). */
  tokenProviderFor?: (tenant: TenantConfig) => TokenProvider;
}

/** A tenant's pace hash outlives its last grant by this much at least (then an idle tenant has no keys). */
const IDLE_MIN_MS = 60_000;

function budgetKeys(prefix: string, tenant: string, budget: 'write' | 'read'): PacerKeys {
  return budget === 'write'
    ? {
        pacer: tenantKeys.pacer(prefix, tenant),
        gate: tenantKeys.throttleGate(prefix, tenant),
        window: tenantKeys.healthWindow(prefix, tenant),
        failing: tenantKeys.healthFailing(prefix, tenant),
        run: tenantKeys.healthRun(prefix, tenant),
      }
    : {
        pacer: tenantKeys.readPacer(prefix, tenant),
        gate: tenantKeys.readThrottleGate(prefix, tenant),
        window: tenantKeys.readHealthWindow(prefix, tenant),
        failing: tenantKeys.readHealthFailing(prefix, tenant),
        run: tenantKeys.readHealthRun(prefix, tenant),
      };
}

/** The config a tenant's pacers read: its own rates where the file overrides GRAPH_*_RATE_LIMIT. */
function tenantGraph(config: Config, t: TenantConfig): Pick<Config, 'graph' | 'worker'> {
  return {
    worker: config.worker,
    graph: {
      ...config.graph,
      rateLimit: t.rateLimit ?? config.graph.rateLimit,
      readRateLimit: t.readRateLimit ?? config.graph.readRateLimit,
    },
  };
}

export function createTenantContexts(opts: TenantContextOptions): TenantContexts {
  const { ctx } = opts;
  const config = ctx.config;
  const made = new Map<string, TenantContext>();
  const g = config.graph.globalRateLimit;
  const global = createPacer({
    redis: ctx.redis,
    prefix: ctx.prefix,
    rate: g,
    headroom: config.graph.rateHeadroom,
    holdKey: null,
    keys: {
      pacer: tenantKeys.globalPacer(ctx.prefix),
      gate: tenantKeys.globalGate(ctx.prefix),
      window: `${tenantKeys.globalPacer(ctx.prefix)}:window`,
      failing: `${tenantKeys.globalPacer(ctx.prefix)}:failing`,
      run: `${tenantKeys.globalPacer(ctx.prefix)}:run`,
    },
    idleTtlMs: Math.max(IDLE_MIN_MS, g.windowMs * 3),
    // At thousands of calls a second a grant serves many local waiters in one round trip.
    maxBatch: 256,
  });

  function make(t: TenantConfig): TenantContext {
    const graphCfg = tenantGraph(config, t);
    const pacerFor = (budget: 'write' | 'read') => {
      const rate = budget === 'write' ? graphCfg.graph.rateLimit : graphCfg.graph.readRateLimit;
      return createBudgetPacer(
        {
          redis: ctx.redis,
          prefix: ctx.prefix,
          config: graphCfg,
          tuning: {
            keys: budgetKeys(ctx.prefix, t.name, budget),
            holdKey: tenantKeys.circuit(ctx.prefix, t.name),
            idleTtlMs: Math.max(IDLE_MIN_MS, rate.windowMs * 3),
          },
        },
        budget,
      );
    };
    const { limit, windowMs } = graphCfg.graph.rateLimit;
    return {
      tenant: t,
      tokenProvider:
        opts.tokenProviderFor?.(t) ?? createTenantTokenProvider(config, t, { logger: opts.logger }),
      pacer: pacerFor('write'),
      readPacer: pacerFor('read'),
      circuit: createTenantCircuit(ctx, t.name, opts.logger, opts.actor),
      intervalMs: windowMs / (limit * config.graph.rateHeadroom),
      lateMs: Math.max(
        5,
        ((limit * (1 - config.graph.rateHeadroom)) / 2) * (windowMs / (limit * config.graph.rateHeadroom)),
      ),
      held: false,
      tokenPending: false,
    };
  }

  return {
    global,
    get(name) {
      let c = made.get(name);
      if (c) return c;
      const t = tenantOf(config, name);
      if (!t) return undefined;
      c = make(t);
      made.set(name, c);
      return c;
    },
    async close() {
      await Promise.allSettled([...made.values()].map((c) => c.tokenProvider.close?.()));
    },
  };
}
