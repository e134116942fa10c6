// The sweep worker runs beside the retire worker in `offboard worker`. BullMQ hands each tick's
// job to exactly one of the listening processes, so running many workers never runs a sweep
// twice. Concurrency 1: sweeps are rare and must not compete with each other for the feed.
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { createTenantTokenProvider } from '../entra/tenant-provider.js';
import { graphContext } from '../graph/call.js';
import { expireBatches } from '../guard/batches.js';
import type { TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import type { Pacer } from '../pacing/pacer.js';
import { createReadPacer } from '../pacing/read-pacer.js';
import type { QueueContext } from '../queue/context.js';
import { SWEEP_QUEUE } from '../queue/names.js';
import { createRedis } from '../redis/connection.js';
import { tenantOf } from '../tenants/registry.js';
import type { ScheduleDef } from './definition.js';
import type { EntraReader } from './entra-source.js';
import { InvalidScheduleError } from './errors.js';
import { HOUSEKEEPING_ID, openSweepQueue } from './schedules.js';
import { runSweep } from './sweep.js';
import type { SweepSummary } from './sweep-summary.js';

export interface SweepWorkerOptions {
  logger: Logger;
  /**
   * Graph credentials for `entra` sources (the worker's own provider). Without one, entra ticks
   * fail with a clear reason; CSV and feed sources do not need it.
   */
  tokenProvider?: TokenProvider;
  /** The read budget's pacer. Default: one built from config (GRAPH_READ_RATE_LIMIT). */
  readPacer?: Pacer;
  /**
   * TENANTS_FILE: the Entra reader of one tenant (its own token provider) for that tenant's entra
   * schedules. Default: one per tenant from the tenants file (src/entra/tenant-provider.ts).
   */
  entraFor?: (tenant: string) => EntraReader | undefined;
  /** Users per page of the Entra read (tests). Default 999. */
  entraPageSize?: number;
  /** How often held batches are checked for expiry even without schedules. Default 60 s. */
  housekeepingEveryMs?: number;
}

export interface SweepWorkerHandle {
  close(): Promise<void>;
  /** The BullMQ worker, for readiness checks and tests. */
  worker: Worker;
}

/** A tick job's id is `repeat:<scheduler id>:<planned ms>`; the planned time names the tick. */
function tickOf(job: Job): number {
  const last = Number(
    String(job.id ?? '')
      .split(':')
      .pop(),
  );
  return Number.isFinite(last) && last > 0 ? last : job.timestamp;
}

export async function processSweepJob(
  ctx: QueueContext,
  job: Job,
  logger: Logger,
  entra?: EntraReader,
  entraFor?: (tenant: string) => EntraReader | undefined,
): Promise<SweepSummary | { expired: number }> {
  const expired = await expireBatches(ctx).catch((err: Error) => {
    logger.warn({ err: err.message }, 'could not expire held batches');
    return [];
  });
  if (job.name !== 'sweep') return { expired: expired.length };
  // job.data is whatever Redis holds: runSweep validates it again before touching any source.
  const def = job.data as ScheduleDef;
  if (job.repeatJobKey && def && typeof def === 'object' && def.name !== job.repeatJobKey) {
    // A tick must not act (and audit) under another schedule's name.
    logger.error(
      { schedule: job.repeatJobKey },
      'sweep refused: definition name does not match its schedule',
    );
    throw new UnrecoverableError('sweep refused: definition name does not match its schedule');
  }
  let summary: SweepSummary;
  try {
    summary = await runSweep(ctx, def, {
      now: tickOf(job),
      ...(entra ? { entra } : {}),
      ...(entraFor ? { entraFor } : {}),
    });
  } catch (err) {
    if (!(err instanceof InvalidScheduleError)) throw err;
    logger.error(
      { schedule: job.repeatJobKey, err: err.message },
      'sweep refused: invalid definition in Redis',
    );
    // Retrying cannot make a refused definition acceptable.
    throw new UnrecoverableError(err.message);
  }
  logger.info({ sweep: summary }, 'sweep finished');
  return summary;
}

/**
 * One Entra reader per tenant of the tenants file, built on first use: the tenant's own token
 * provider (its authority and credential), so a sweep never reads a directory with another tenant's
 * tokens. The read pacer is the process's (the deployment's read budget).
 */
function tenantReaders(
  ctx: QueueContext,
  opts: SweepWorkerOptions,
): ((tenant: string) => EntraReader | undefined) | undefined {
  if (!ctx.config.tenants?.length) return undefined;
  const readers = new Map<string, EntraReader>();
  const pacer =
    opts.readPacer ?? createReadPacer({ redis: ctx.redis, prefix: ctx.prefix, config: ctx.config });
  return (name) => {
    const tenant = tenantOf(ctx.config, name);
    if (!tenant) return undefined;
    let reader = readers.get(name);
    if (!reader) {
      const provider = createTenantTokenProvider(ctx.config, tenant, { logger: opts.logger });
      reader = {
        graph: graphContext(ctx.config, provider, pacer),
        ...(opts.entraPageSize ? { pageSize: opts.entraPageSize } : {}),
      };
      readers.set(name, reader);
    }
    return reader;
  };
}

export function startSweepWorker(ctx: QueueContext, opts: SweepWorkerOptions): SweepWorkerHandle {
  const { logger } = opts;
  const connection = createRedis(ctx.config.redis, { blocking: true, name: 'offboard-sweep' });
  const entra: EntraReader | undefined = opts.tokenProvider && {
    graph: graphContext(
      ctx.config,
      opts.tokenProvider,
      opts.readPacer ?? createReadPacer({ redis: ctx.redis, prefix: ctx.prefix, config: ctx.config }),
    ),
    ...(opts.entraPageSize ? { pageSize: opts.entraPageSize } : {}),
  };
  const entraFor = opts.entraFor ?? tenantReaders(ctx, opts);
  const worker = new Worker(SWEEP_QUEUE, (job) => processSweepJob(ctx, job, logger, entra, entraFor), {
    connection,
    prefix: ctx.prefix,
    concurrency: 1,
  });
  worker.on('failed', (job, err) => {
    logger.warn({ schedule: job?.data?.name, attempt: job?.attemptsMade, err: err.message }, 'sweep failed');
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'sweep worker error'));
  // Expiry of held batches must not depend on someone listing them; idempotent upsert per start.
  const housekeeping = openSweepQueue(ctx);
  housekeeping
    .upsertJobScheduler(
      HOUSEKEEPING_ID,
      { every: opts.housekeepingEveryMs ?? 60_000 },
      {
        name: 'housekeeping',
        data: {},
        opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 10 } },
      },
    )
    .catch((err: Error) => logger.warn({ err: err.message }, 'could not schedule batch expiry'))
    .finally(() => housekeeping.close().catch(() => {}));
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
