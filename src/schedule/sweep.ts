// One tick of a schedule: read the source, submit the leavers through the mass-change guard
// (usual per-user deduplication, so a leaver listed every night is enqueued once), and record a
// sweep summary in the audit stream, also when the source could not be read.
import { type SubmitMeta, submitBulk } from '../front-door/front-door.js';
import { importCsv } from '../import/csv.js';
import { ImportFormatError } from '../import/row.js';
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { configuredTenants } from '../tenants/scope.js';
import { InvalidRequestError } from '../values/invalid-request.js';
import { resolveTenant } from '../values/tenant.js';
import { resolveEffectiveAt } from '../values/timezone.js';
import { openCsvSource } from './csv-source.js';
import { isScheduleName, type ScheduleDef, scheduleChecks, validateSchedule } from './definition.js';
import type { EntraReader } from './entra-source.js';
import { sweepEntra } from './entra-sweep.js';
import { InvalidScheduleError, SweepSourceError } from './errors.js';
import { type FeedOptions, fetchFeed } from './http-feed.js';
import { recordSweepFailure, recordSweepSuccess } from './sweep-status.js';
import type { SweepSummary } from './sweep-summary.js';

export interface RunSweepOptions {
  /** Tick time in ms. Default Date.now(). */
  now?: number;
  feed?: FeedOptions;
  /** Graph access for `entra` sources (the sweep worker's token provider and read pacer). */
  entra?: EntraReader;
  /**
   * TENANTS_FILE: Graph access to one tenant's directory for an `entra` source of that tenant (the
   * worker's per-tenant token provider). Without it a tenant's entra source is refused, never read
   * with another tenant's credentials.
   */
  entraFor?: (tenant: string) => EntraReader | undefined;
  /** Operator letting this tick withdraw more than GUARD_THRESHOLD leavers (`schedule run --allow-mass-withdrawal`). */
  allowMassWithdrawalBy?: string;
}

/**
 * Runs one tick. The definition is validated again here, against this process's own settings:
 * it comes from Redis, and whoever can write there must not be able to widen what a tick does
 * (another secret as feed token, a file outside SCHEDULE_CSV_DIR). A refused definition is audited
 * and throws InvalidScheduleError before any source is touched.
 */
export async function runSweep(
  ctx: QueueContext,
  input: ScheduleDef,
  opts: RunSweepOptions = {},
): Promise<SweepSummary> {
  const tick = new Date(opts.now ?? Date.now()).toISOString();
  let def: ScheduleDef;
  try {
    def = validateSchedule(input, scheduleChecks(ctx.config));
  } catch (err) {
    const name = (input as { name?: unknown } | null)?.name;
    await appendAudit(ctx, {
      type: 'sweep',
      actor: `schedule:${isScheduleName(name) ? name : 'invalid'}`,
      at: new Date().toISOString(),
      details: { tick, refused: true, error: (err as Error).message.slice(0, 500) },
    }).catch(() => {});
    if (isScheduleName(name)) {
      const why = `definition refused: ${(err as Error).message}`;
      await recordSweepFailure(ctx, name, Date.now(), why).catch(() => {});
    }
    if (err instanceof InvalidScheduleError) throw err;
    throw new InvalidScheduleError(`invalid schedule: ${(err as Error).message}`);
  }
  const actor = `schedule:${def.name}`;
  // The tenant is checked against this process's tenants file as the definition is (a name that
  // is not configured, or a missing one with several tenants, refuses the tick).
  let tenant: string | undefined;
  try {
    tenant = resolveTenant(configuredTenants(ctx.config), def.tenant);
  } catch (err) {
    if (!(err instanceof InvalidRequestError)) throw err;
    const why = `definition refused: ${err.message}`;
    await appendAudit(ctx, {
      type: 'sweep',
      actor,
      at: new Date().toISOString(),
      details: { tick, refused: true, error: why.slice(0, 500) },
    }).catch(() => {});
    await recordSweepFailure(ctx, def.name, Date.now(), why).catch(() => {});
    throw new InvalidScheduleError(`invalid schedule: ${err.message}`);
  }
  const meta: SubmitMeta = {
    requestedBy: actor,
    source: 'schedule',
    ...(def.dryRun ? { dryRun: true } : {}),
    ...(def.devicePolicy ? { devicePolicy: def.devicePolicy } : {}),
    ...(tenant ? { tenant } : {}),
  };
  // An entra source reads its own tenant's directory: that tenant's reader, never the default one.
  const entra = tenant ? opts.entraFor?.(tenant) : opts.entra;
  const base = { schedule: def.name, tick, source: def.source.type, dryRun: def.dryRun === true };
  let summary: SweepSummary;
  try {
    summary =
      def.source.type === 'csv'
        ? await sweepCsv(ctx, def.source.path, def.tz, meta, base)
        : def.source.type === 'entra'
          ? await sweepEntra(ctx, def.source, meta, base, entra, opts.allowMassWithdrawalBy)
          : await sweepFeed(ctx, def.source, def.tz, meta, base, opts.feed);
  } catch (err) {
    await appendAudit(ctx, {
      type: 'sweep',
      actor,
      at: new Date().toISOString(),
      details: { ...base, error: (err as Error).message.slice(0, 500) },
    }).catch(() => {});
    await recordSweepFailure(ctx, def.name, Date.now(), (err as Error).message).catch(() => {});
    throw err;
  }
  await appendAudit(ctx, { type: 'sweep', actor, at: new Date().toISOString(), details: { ...summary } });
  await recordSweepSuccess(ctx, summary).catch(() => {});
  return summary;
}

type Base = Pick<SweepSummary, 'schedule' | 'tick' | 'source' | 'dryRun'>;

async function sweepCsv(
  ctx: QueueContext,
  path: string,
  tz: string,
  meta: SubmitMeta,
  base: Base,
): Promise<SweepSummary> {
  try {
    // The import streams and stages in Redis, so the guard applies without loading the file.
    const stream = await openCsvSource(path, ctx.config.schedule.csvDir);
    const r = await importCsv(ctx, stream, { meta, tz });
    return {
      ...base,
      found: r.lines,
      new: r.accepted,
      duplicate: r.duplicate,
      invalid: r.invalid,
      held: r.held?.id ?? null,
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof ImportFormatError || (typeof code === 'string' && code.startsWith('E'))) {
      throw new SweepSourceError(`CSV source ${path}: ${(err as Error).message}`);
    }
    throw err;
  }
}

async function sweepFeed(
  ctx: QueueContext,
  source: { url: string; tokenEnv?: string },
  tz: string,
  meta: SubmitMeta,
  base: Base,
  feed?: FeedOptions,
): Promise<SweepSummary> {
  const items = (await fetchFeed(source, feed)).map((item) => withZone(item, tz));
  const out = await submitBulk(ctx, items, meta);
  if (out.held) {
    return {
      ...base,
      found: items.length,
      new: 0,
      duplicate: out.batch.duplicate,
      invalid: out.invalid.length,
      held: out.batch.id,
    };
  }
  const count = (s: string) => out.results.filter((r) => r.status === s).length;
  return {
    ...base,
    found: items.length,
    new: count('accepted'),
    duplicate: count('duplicate'),
    invalid: count('invalid'),
    held: null,
  };
}

/** A feed's leave date without an offset is read in the schedule's zone. */
function withZone(item: unknown, tz: string): unknown {
  if (typeof item !== 'object' || item === null || !('effectiveAt' in item)) return item;
  const o = item as Record<string, unknown>;
  try {
    return { ...o, effectiveAt: resolveEffectiveAt(o.effectiveAt, tz) };
  } catch {
    return o; // validation reports the bad value for this item
  }
}
