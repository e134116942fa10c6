// Preflight per tenant (TENANTS_FILE): the same read-only checks, signed in to one customer tenant
// with that tenant's token provider (tokenProviderFor: the deployment's multi-tenant app against
// the tenant's authority, or the tenant's own app registration). `offboard preflight` without
// --tenant runs every tenant and prints one line each.
import type { Config } from '../config/load.js';
import type { TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import { type PreflightOptions, runPreflight } from '../preflight/run.js';
import type { PreflightReport } from '../preflight/types.js';
import type { TenantConfig } from './types.js';

/** Builds the token provider of one tenant (the seam to the per-tenant providers). */
export type TokenProviderFor = (
  config: Config,
  tenant: TenantConfig,
  deps: { logger?: Logger | undefined },
) => TokenProvider;

export interface TenantPreflight {
  tenant: string;
  report: PreflightReport;
}

/** The config as one tenant sees it: its directory id (the report names it) and its rate limits. */
export function tenantView(config: Config, tenant: TenantConfig): Config {
  return {
    ...config,
    auth: { ...config.auth, tenantId: tenant.id },
    graph: {
      ...config.graph,
      ...(tenant.rateLimit ? { rateLimit: tenant.rateLimit } : {}),
      ...(tenant.readRateLimit ? { readRateLimit: tenant.readRateLimit } : {}),
    },
  };
}

export async function preflightTenant(
  opts: Omit<PreflightOptions, 'tokenProvider'>,
  tenant: TenantConfig,
  providerFor: TokenProviderFor,
): Promise<TenantPreflight> {
  const config = tenantView(opts.config, tenant);
  let provider: TokenProvider | undefined;
  try {
    provider = providerFor(opts.config, tenant, { logger: opts.logger });
  } catch {
    // runPreflight reports a provider it cannot build as the token check's failure.
  }
  try {
    const report = await runPreflight({ ...opts, config, ...(provider ? { tokenProvider: provider } : {}) });
    return { tenant: tenant.name, report };
  } finally {
    await provider?.close?.().catch(() => {});
  }
}

/** One line per tenant: ok, or the failed checks by id. */
export function tenantPreflightLine(t: TenantPreflight): string {
  const failed = t.report.checks.filter((c) => c.status === 'fail');
  return failed.length === 0
    ? `tenant ${t.tenant} (${t.report.tenantId ?? '-'}): ok, ${t.report.checks.length} checks`
    : `tenant ${t.tenant} (${t.report.tenantId ?? '-'}): FAILED ${failed.map((c) => c.id).join(', ')}: ${failed[0]?.detail ?? ''}`;
}
