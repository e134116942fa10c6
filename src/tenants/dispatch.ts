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
import { InvalidJobError } from '../worker/job-data.js';
import { decideFailure } from '../worker/outcome-policy.js';
import { type AdmittedJob, type Dispatcher, TenantDeferError } from '../worker/tenant-port.js';

export type { AdmittedJob, Dispatcher };

import type { TenantContext, TenantContexts } from './context.js';
import { tenantKeys } from './registry.js';
import { turnLeadMs } from './turns.js';

/** How long a parked job sleeps before it looks at its tenant's circuit again (resume promotes it sooner). */
export const PARK_MS = 60 * 60_000;

export interface DispatcherOptions {
  ctx: QueueContext;
  tenants: TenantContexts;
  actor: string;
  logger: Logger;
  transport?: GraphTransport;
}

/** How long a job waits in delayed while another job of its tenant is getting the tenant's token. */
const TOKEN_WAIT_MS = 250;

/** A wait this short is slept inside the slot: shorter than a round trip to delayed and back. */
function tolerance(c: TenantContext): number {
  return Math.max(5, Math.min(c.intervalMs, 200));
}

/**
 * The tenant's next slot if it is due within the tolerance, taken now: `at` (epoch ms) is when the
 * call may go; otherwise the wait (a gate this process heard, or the pacer's next slot). Reserved, a
 * job that sleeps to its slot does not push the tenant's grid back by its timer lateness (which cost
 * a turn every few jobs when it asked again after the sleep).
 */
async function slotWithin(
  own: Pacer,
  limit: number,
): Promise<{ at: number; wait?: undefined } | { wait: number; at?: undefined }> {
  for (;;) {
    const gate = own.localGateUntil() - Date.now();
    if (gate > limit) return { wait: gate };
    if (gate > 0) {
      await sleep(gate);
      continue;
    }
    const r = await own.reserve(limit);
    if (r.wait === 0 || r.reserved) return { at: Date.now() + r.wait };
    if (r.wait > limit) return { wait: r.wait };
    // Due within the tolerance and not reserved: a gate in Redis ended meanwhile; ask again.
    await sleep(r.wait);
  }
}

/**
 * A pacer for one job: the first take uses the slot admission already took (`prepaidAt`, sleeping
 * until then); every take also takes a slot of the global pace. A take never sleeps longer than the
 * tolerance: beyond it the job is deferred.
 */
function jobPacer(
  c: TenantContext,
  own: Pacer,
  global: Pacer,
  prepaidAt: number | null,
  lateMs: number,
): Pacer {
  let paidAt = prepaidAt;
  const limit = tolerance(c);
  return {
    ...own,
    async take(signal) {
      let at: number;
      if (paidAt !== null) {
        at = paidAt;
        paidAt = null;
      } else {
        const slot = await slotWithin(own, limit);
        if (slot.at === undefined) throw new TenantDeferError(slot.wait);
        at = slot.at;
      }
      if (at > Date.now()) {
        await sleep(at - Date.now(), signal);
        // Reserved before the sleep: a Retry-After another process heard meanwhile is only in Redis.
        const shared = (await own.sharedGateUntil()) - Date.now();
        if (shared > 0) throw new TenantDeferError(shared);
      }
      await global.take(signal);
      // Far behind its slot (an event-loop stall): the tenant's later slots move back by as much.
      const late = Date.now() - at;
      if (late > lateMs) await own.shift(late);
      // A Retry-After this process heard after the slot was granted (a prepaid one included): the
      // call must not go out inside the announced window.
      const gate = own.localGateUntil() - Date.now();
      if (gate > 0) throw new TenantDeferError(gate);
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
    await job.moveToDelayed(Number(first) - turnLeadMs(c.intervalMs), token);
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
      // Token before slot (as graph/call.ts does): a slot taken and then spent waiting for the tenant's
      // first token would bunch its calls. A failure is met again on the call path, which trips the
      // tenant's circuit; here it only must not take a slot.
      if (c.held) {
        // This process parked the tenant's jobs: while its circuit is open, park at once (no token try).
        if ((await ctx.redis.exists(tenantKeys.circuit(ctx.prefix, name))) === 1) return park(c, job, token);
        // Closed again: start from a clean MSAL client (no replayed failure).
        c.held = false;
        c.tokenProvider.reset?.();
      }
      // One slot per tenant may wait on its token endpoint (a first token, a renewal, a failing
      // tenant): the tenant's other jobs go back to delayed meanwhile instead of holding slots.
      if (c.tokenPending) return toTurn(c, job, TOKEN_WAIT_MS, token);
      c.tokenPending = true;
      const tokenError = await c.tokenProvider
        .getToken()
        .then(
          () => undefined,
          (err: unknown) => err ?? new Error('token acquisition failed'),
        )
        .finally(() => {
          c.tokenPending = false;
        });
      if (tokenError !== undefined) {
        // The same table as a failed call (a lost consent trips the circuit), without a second try.
        const decision = decideFailure(tokenError, { shuttingDown: false, lastAttempt: false });
        if (decision.kind === 'trip') await c.circuit.trip({ code: decision.code, reason: decision.reason });
        if ((await ctx.redis.exists(tenantKeys.circuit(ctx.prefix, name))) === 1) return park(c, job, token);
        return admitted(c, null);
      }
      let slot: Awaited<ReturnType<typeof slotWithin>> | null = null;
      try {
        // A dry run never writes: it spends no write slot (its reads are paced as they go).
        if (!dryRun) slot = await slotWithin(c.pacer, tolerance(c));
        else if ((await ctx.redis.exists(tenantKeys.circuit(ctx.prefix, name))) === 1) {
          throw new PacerHoldError('tenant circuit open');
        }
      } catch (err) {
        if (err instanceof PacerHoldError) return park(c, job, token);
        throw err;
      }
      if (slot && slot.at === undefined) return toTurn(c, job, slot.wait, token);
      return admitted(c, slot?.at ?? null);
    },
  };

  /** The job's context; `prepaidAt`: admission already took its first write slot, due then. */
  function admitted(c: TenantContext, prepaidAt: number | null): AdmittedJob {
    return {
      circuit: c.circuit,
      attemptDeps: {
        ctx,
        actor: opts.actor,
        graph: graphContext(
          config,
          c.tokenProvider,
          jobPacer(c, c.pacer, tenants.global, prepaidAt, c.lateMs),
          opts.transport,
        ),
      },
      // A read 429 gates reads only: reads go however late.
      reads: jobPacer(c, c.readPacer, tenants.global, null, Number.POSITIVE_INFINITY),
      async defer(run, err, tok) {
        if (run.progress.graphCalls > 0) await run.job.updateProgress({ ...run.progress });
        return toTurn(c, run.job, err.waitMs, tok);
      },
    };
  }
}
