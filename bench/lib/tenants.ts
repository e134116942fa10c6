// The multi-tenant workload of the `tenants` scenario: a tenant list (names, Entra ids, the simulator's
// per-tenant settings and the product's TENANTS_FILE), staging leavers for a tenant exactly as the
// intake writes them, and what the simulator's call log says per tenant (pace in a window, enqueue →
// first call latencies).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enqueueMany, retireJobOptions } from '../../src/intake/enqueue.js';
import { validateRequest } from '../../src/intake/validate.js';
import type { RetireJobData } from '../../src/interfaces.js';
import type { QueueContext } from '../../src/queue/context.js';
import type { GraphLogEntry, SimTenantControl } from '../../src/sim/index.js';
import { stableGuid } from '../../src/sim/tokens.js';
import { StagingError } from './system.js';

export interface BenchTenant {
  /** Slug in TENANTS_FILE and on the jobs. */
  name: string;
  /** Entra tenant id (the simulator's authority and the token's `tid`). */
  id: string;
  /** Leavers' UPN domain: the call log tells tenants apart by it. */
  domain: string;
}

export function benchTenant(name: string): BenchTenant {
  return { name, id: stableGuid(`bench-tenant:${name}`), domain: `${name}.bench.example` };
}

/** `count` small tenants named s001, s002, … */
export function smallTenants(count: number): BenchTenant[] {
  return Array.from({ length: count }, (_, i) => benchTenant(`s${String(i + 1).padStart(3, '0')}`));
}

/** The product's TENANTS_FILE (JSON is YAML) in a temp dir: every tenant at `rateLimit`. */
export function writeTenantsFile(tenants: readonly BenchTenant[], rateLimit: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'offboard-bench-tenants-'));
  const file = join(dir, 'tenants.json');
  const doc = { tenants: tenants.map((t) => ({ name: t.name, id: t.id, rateLimit })) };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

/** The simulator's tenants: each with the same limits unless `extra` says more for some. */
export function simTenants(
  tenants: readonly BenchTenant[],
  base: SimTenantControl,
  extra: Record<string, SimTenantControl> = {},
): Record<string, SimTenantControl> {
  return Object.fromEntries(tenants.map((t) => [t.id, { ...base, ...extra[t.name] }]));
}

export function tenantLeavers(t: BenchTenant, n: number, runId = randomUUID().slice(0, 8)): string[] {
  return Array.from({ length: n }, (_, i) => `leaver-${runId}-${i}@${t.domain}`);
}

/** Whether this checkout's intake takes a `tenant` on a request (issue 22's front door). */
function intakeKnowsTenants(): boolean {
  try {
    validateRequest({ user: 'probe@bench.example', tenant: 'probe' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Puts a tenant's leavers in Redis as the intake does. Where the intake does not take `tenant` yet
 * (a branch without the tenant-aware front door), the same job data and options are written straight
 * to BullMQ with `tenant` set, which is what the worker reads (the audit entry is then left out).
 */
export async function addTenantJobs(
  ctx: QueueContext,
  tenant: string,
  users: readonly string[],
): Promise<void> {
  if (intakeKnowsTenants()) {
    const results = await enqueueMany(
      ctx,
      users.map((user) => ({ user, tenant })),
      { requestedBy: 'bench', source: 'batch' },
      { chunkSize: 2000 },
    );
    const bad = results.find((r) => r.status !== 'accepted');
    if (bad) throw new StagingError(`the intake refused a benchmark job: ${JSON.stringify(bad)}`);
    return;
  }
  for (let i = 0; i < users.length; i += 2000) {
    const jobs = users.slice(i, i + 2000).map((user) => {
      const data: RetireJobData = {
        user,
        dryRun: false,
        correlationId: randomUUID(),
        requestedBy: 'bench',
        requestedAt: new Date().toISOString(),
        source: 'batch',
        tenant,
      };
      const id = randomUUID();
      return { name: 'retire', data, opts: retireJobOptions(ctx, id, data) };
    });
    await ctx.retire.addBulk(jobs);
  }
}

/** Successful retire calls of users at `domain` (all when undefined) that arrived in [from, to). */
export function successesIn(
  log: readonly GraphLogEntry[],
  from: number,
  to: number,
  domain?: string,
): number {
  let n = 0;
  for (const e of log) {
    if (e.at < from || e.at >= to || e.status < 200 || e.status >= 300) continue;
    if (domain === undefined || e.user.endsWith(`@${domain}`)) n++;
  }
  return n;
}

/** Per job: first Graph call of its user − when its tenant's jobs were enqueued (ms); missing calls are NaN. */
export function firstCallLatencies(
  firstCallByUser: Record<string, number>,
  enqueuedAt: number,
  users: readonly string[],
): number[] {
  return users.map((u) => {
    const at = firstCallByUser[u];
    return at === undefined ? Number.NaN : at - enqueuedAt;
  });
}
