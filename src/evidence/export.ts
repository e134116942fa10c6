// The evidence export shared by `GET /v1/evidence` and `offboard evidence`: the time range rules,
// the rows of every leaver in range (read a page at a time from the store), and the streamed JSON
// form. The CSV form is csv.ts. Nothing here holds more than one store page in memory.
import type { Config } from '../config/load.js';
import type { VerificationState } from '../interfaces.js';
import type { RedisClient } from '../redis/connection.js';
import {
  EVIDENCE_ACTION_COLUMNS,
  EVIDENCE_COLUMNS,
  type EvidenceColumn,
  type EvidenceRow,
  evidenceRows,
} from './rows.js';
import { listEvidence } from './store.js';

const DAY_MS = 86_400_000;
/** Without `from` (and without a batch): the last 24 hours. */
export const DEFAULT_RANGE_MS = DAY_MS;
/** Longest range one export may cover: the default EVIDENCE_RETENTION. */
export const MAX_RANGE_MS = 400 * DAY_MS;

export class InvalidRangeError extends Error {
  override readonly name = 'InvalidRangeError';
}

export interface ExportFilter {
  /** Inventory time, inclusive (ms). */
  fromMs: number;
  /** Inventory time, exclusive (ms): `--to 2026-12-02` ends before that day starts. */
  toMs: number;
  batchId?: string;
  state?: VerificationState;
  /** Only leavers of these tenants (a tenant-scoped key); absent = every one. */
  tenants?: readonly string[];
}

/**
 * The range to export. `to` defaults to now; `from` to 24 hours before `to`, or, when a batch is
 * named, to the longest range (a batch id alone should find the batch, whenever it ran).
 */
export function exportRange(
  given: { fromMs?: number; toMs?: number; batchId?: string },
  now = Date.now(),
): { fromMs: number; toMs: number } {
  const toMs = given.toMs ?? now;
  const fromMs = given.fromMs ?? toMs - (given.batchId !== undefined ? MAX_RANGE_MS : DEFAULT_RANGE_MS);
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) throw new InvalidRangeError('invalid date');
  if (fromMs >= toMs) throw new InvalidRangeError('from must be before to');
  if (toMs - fromMs > MAX_RANGE_MS) {
    throw new InvalidRangeError(`the range may cover at most ${MAX_RANGE_MS / DAY_MS} days`);
  }
  return { fromMs, toMs };
}

/**
 * Whether the export shows device actions (one row per device × action, DEVICE_ACTION_COLUMNS at the
 * end): when a device policy is configured, for the deployment or a tenant. Without one the export is
 * exactly what it always was, byte for byte.
 */
export function exportShowsActions(config: Pick<Config, 'devicePolicy' | 'tenants'>): boolean {
  return (
    config.devicePolicy !== undefined || (config.tenants ?? []).some((t) => t.devicePolicy !== undefined)
  );
}

/** The export's columns: EVIDENCE_COLUMNS, and the device action columns after them when shown. */
export function exportColumns(actions: boolean): readonly EvidenceColumn[] {
  return actions ? EVIDENCE_ACTION_COLUMNS : EVIDENCE_COLUMNS;
}

/** Every row of every leaver whose inventory falls in the range, in inventory-time order. */
export async function* exportRows(
  redis: RedisClient,
  prefix: string,
  filter: ExportFilter,
  counts?: { leavers: number; rows: number },
  opts: { actions?: boolean } = {},
): AsyncGenerator<EvidenceRow> {
  for await (const record of listEvidence(redis, prefix, {
    fromMs: filter.fromMs,
    // The store's bounds are inclusive; scores are whole milliseconds.
    toMs: filter.toMs - 1,
    ...(filter.batchId !== undefined ? { batchId: filter.batchId } : {}),
    ...(filter.state !== undefined ? { state: filter.state } : {}),
  })) {
    if (filter.tenants && !(record.tenant && filter.tenants.includes(record.tenant))) continue;
    if (counts) counts.leavers++;
    for (const row of evidenceRows(record, { actions: opts.actions === true })) {
      if (counts) counts.rows++;
      yield row;
    }
  }
}

/**
 * The JSON form, streamed: `{"from","to","batch","state","columns":[…],"rows":[…],"leavers":n,"count":n}`.
 * The counts come last because they are known only at the end; a response cut short is invalid
 * JSON, so a client cannot mistake a partial export for a whole one.
 */
export async function* jsonStream(
  filter: ExportFilter,
  rows: AsyncIterable<EvidenceRow>,
  counts: { leavers: number; rows: number },
  chunkBytes = 16_384,
  columns: readonly EvidenceColumn[] = EVIDENCE_COLUMNS,
): AsyncGenerator<string> {
  const head = {
    from: new Date(filter.fromMs).toISOString(),
    to: new Date(filter.toMs).toISOString(),
    batch: filter.batchId ?? null,
    state: filter.state ?? null,
    columns,
  };
  let chunk = `${JSON.stringify(head).slice(0, -1)},"rows":[`;
  let first = true;
  for await (const row of rows) {
    chunk += (first ? '\n' : ',\n') + JSON.stringify(row);
    first = false;
    if (chunk.length >= chunkBytes) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}${first ? '' : '\n'}],"leavers":${counts.leavers},"count":${counts.rows}}\n`;
}
