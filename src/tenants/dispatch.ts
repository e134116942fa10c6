// Fair dispatch on open-source BullMQ: a worker slot never waits on one tenant's pacer while other
// tenants' jobs could go. Each job asks its tenant's pacer WITHOUT blocking (acquire: a slot now, or
// the wait). A slot now: the job runs with that slot prepaid. No slot: the job goes back to BullMQ's
// delayed set at its turn on the tenant's virtual clock (turn.lua: one interval apart, so a whale's
// jobs wake at its pace instead of all at once) and the slot serves another tenant's job. A tenant
// whose circuit is open has its jobs parked (delayed an hour ahead and indexed per tenant) until an
// operator resumes it (circuit.ts promotes them). Later calls of a running job (retries, the POST
// after the inventory read) use the same non-blocking rule, so a Retry-After announced mid-job sends
// the job back to delayed too, never sleeps in a slot.
import { DelayedError, type Job } from 'bullmq';
import type { Config } from '../config/load.js';
import type { GraphTransport } from '../graph/call.js';
import { graphContext } from '../graph/call.js';
import type { Logger } from '../log.js';
import { runScript } from '../lua/scripts.js';
import { type Pacer, PacerHoldError } from '../pacing/pacer.js';
import { sleep } from '../pacing/sleep.js';
import type { QueueContext } from '../queue/context.js';
import type { AttemptDeps, JobRun } from '../worker/attempt.js';
import { InvalidJobError } from '../worker/job-data.js';
import { type AdmittedJob, type Dispatcher, TenantDeferError } from '../worker/tenant-port.js';

export type { AdmittedJob, Dispatcher };

import type { TenantContext, TenantContexts } from './context.js';
import { tenantKeys } from './registry.js';

/** How long a parked job sleeps before it looks at its tenant's circuit again (resume promotes it sooner). */
export const PARK_MS = 60 * 60_000;

export interface DispatcherOptions {
  ctx: QueueContext;
  tenants: TenantContexts;
  actor: string;
  logger: Logger;
  transport?: GraphTransport;
}

/** A wait this short is slept inside the slot: shorter than a round trip to delayed and back. */
function tolerance(c: TenantContext): number {
  return Math.max(5, Math.min(c.intervalMs, 200));
}

/**
 * A pacer for one job: the first take uses the slot admission already took; every take also takes a
 * slot of the global pace. A take never sleeps longer than the tolerance: beyond it the job is deferred.
 */
function jobPacer(c: TenantContext, own: Pacer, global: Pacer, prepaid: boolean): Pacer {
  let paid = prepaid;
  const limit = tolerance(c);
  return {
    ...own,
    async take(signal) {
      if (paid) paid = false;
      else {
        for (;;) {
          const gate = own.localGateUntil() - Date.now();
          const wait = gate > 0 ? gate : await own.acquire();
          if (wait === 0) break;
          if (wait > limit) throw new TenantDeferError(wait);
          await sleep(wait, signal);
        }
      }
      await global.take(signal);
      return { waitedMs: 0 };
    },
    // take() has already looked at this process's gate: the caller need not sleep on it again.
    localGateUntil: () => 0,
  };
}

export function createDispatcher(opts: DispatcherOptions): Dispatcher {
  const { ctx, tenants } = opts;
  const config: Config = ctx.config;
  const single = config.tenants?.length === 1 ? config.tenants[0]?.name : undefined;

  async function toTurn(c: TenantContext, job: Job, waitMs: number, token?: string): Promise<never> {
    const first = await runScript(
      ctx.redis,
      'tenants/turn',
      [tenantKeys.turn(ctx.prefix, c.tenant.name)],
      [Math.ceil(waitMs), c.intervalMs, 1],
    );
    await job.moveToDelayed(Number(first), token);
    throw new DelayedError();
  }

  async function park(c: TenantContext, job: Job, token?: string): Promise<never> {
    c.held = true;
    const key = tenantKeys.parked(ctx.prefix, c.tenant.name);
    await ctx.redis.zadd(key, Date.now(), job.id as string);
    await job.moveToDelayed(Date.now() + PARK_MS, token);
    // Resumed between our look and the park: the resume's promotion may have missed this job.
    if ((await ctx.redis.exists(tenantKeys.circuit(ctx.prefix, c.tenant.name))) === 0) {
      await job.promote().catch(() => undefined);
    }
    throw new DelayedError();
  }

  return {
    async admit(job, data, token) {
      const name = data.tenant ?? single;
      if (name === undefined)
        throw new InvalidJobError('job has no tenant and several tenants are configured');
      const c = tenants.get(name);
      if (!c) throw new InvalidJobError(`job tenant "${name}" is not in TENANTS_FILE`);
      const dryRun = data.dryRun || config.worker.dryRun;
      let wait = 0;
      try {
        // A dry run never writes: it spends no write slot (its reads are paced as they go).
        if (!dryRun) {
          const gate = c.pacer.localGateUntil() - Date.now();
          wait = gate > 0 ? gate : await c.pacer.acquire();
        } else if ((await ctx.redis.exists(tenantKeys.circuit(ctx.prefix, name))) === 1) {
          throw new PacerHoldError('tenant circuit open');
        }
      } catch (err) {
        if (err instanceof PacerHoldError) return park(c, job, token);
        throw err;
      }
      if (wait > tolerance(c)) return toTurn(c, job, wait, token);
      if (c.held) {
        // The circuit was open and is closed again: start from a clean MSAL client (no replayed failure).
        c.held = false;
        c.tokenProvider.reset?.();
      }
      const writes = jobPacer(c, c.pacer, tenants.global, !dryRun && wait === 0);
      return {
        circuit: c.circuit,
        attemptDeps: {
          ctx,
          actor: opts.actor,
          graph: graphContext(config, c.tokenProvider, writes, opts.transport),
        },
        reads: jobPacer(c, c.readPacer, tenants.global, false),
        async defer(run, err, tok) {
          if (run.progress.graphCalls > 0) await job.updateProgress({ ...run.progress });
          return toTurn(c, job, err.waitMs, tok);
        },
      };
    },
  };
}
