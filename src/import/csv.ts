// Streaming CSV import. Rows are parsed with csv-parse and handed, as a stream, to the bulk
// pipeline through the front door (src/front-door/run-bulk.ts), which validates them and stages them in Redis in chunks (the
// batch's item list plus a user set for deduplication); the process holds one chunk at a time, so
// 100 000 rows need the same memory as 1 000. Only at the end is the number of valid distinct users
// known, and only then does the guard decide (GUARD_THRESHOLD, GUARD_WINDOW):
//   admitted → the staged list is enqueued chunk by chunk (enqueueMany) and deleted;
//   held     → the staged list becomes ONE held batch, as it stands, with no copying.
// A crash before that decision leaves only staging keys, which expire by themselves.
import type { Readable } from 'node:stream';
import { type Options, parse } from 'csv-parse';
import {
  type DevicePlanSource,
  type LeaverDevicePlan,
  MAX_PLAN_LEAVERS,
} from '../device-policy/leaver-plans.js';
import { type BulkInput, runBulk, type SubmitMeta } from '../front-door/front-door.js';
import type { BatchSummary } from '../guard/types.js';
import { holdCauseText } from '../guard/window.js';
import { othersJobs } from '../intake/privacy.js';
import { InvalidRequestError } from '../intake/validate.js';
import type { QueueContext } from '../queue/context.js';
import { appendAudit } from '../records/audit.js';
import { assertTimeZone } from '../values/timezone.js';
import { type Header, ImportFormatError, parseHeader, rowToRequest } from './row.js';

export interface ImportRowEvent {
  /** Line of the file where the row starts (the header is line 1). */
  line: number;
  user?: string;
  /**
   * Plan: new / duplicate / invalid, in file order. Real run: invalid and in-file
   * duplicates while reading, accepted / duplicate once enqueued; a held import has no row events
   * for its held rows (they are in the batch).
   */
  status: 'new' | 'accepted' | 'duplicate' | 'invalid';
  error?: string;
  /** The pending job a duplicate would join. */
  jobId?: string;
  /** A plan's new row with DEVICE_POLICY_FILE: the profile its job would get. */
  devicePolicy?: string;
}

export interface ImportProgress {
  phase: 'reading' | 'enqueueing' | 'done';
  /** Data rows read so far. */
  lines: number;
  bytes: number;
  /** Distinct valid users staged (known once reading is done). */
  staged: number;
  enqueued: number;
}

export interface ImportOptions {
  /** Who imports; `meta.dryRun` flags every job dry-run (pipeline runs, Graph is not called). */
  meta: SubmitMeta;
  /**
   * Plan only: report what would happen per row, enqueue and hold nothing. Default false. Not a
   * dry run (`meta.dryRun`), which enqueues jobs that call nothing destructive.
   */
  plan?: boolean;
  /** IANA zone for effectiveAt values without an offset (a date or a local date-time). */
  tz?: string;
  /** Rows per Redis round trip. Default 1000. */
  chunkSize?: number;
  /** Errors kept in the result (all are passed to onRowError). Default 100 000. */
  maxErrors?: number;
  onProgress?: (p: ImportProgress) => void;
  onRow?: (row: ImportRowEvent) => void;
  onRowError?: (e: { line: number; error: string }) => void;
  /**
   * The importer is a producer (the console's submit page): users pending through someone else's
   * request count as `accepted` (plan: new), as an ordinary row would, never as duplicates
   * (src/intake/privacy.ts). Row events are not adjusted. Default false.
   */
  producerView?: boolean;
  /**
   * A plan with DEVICE_POLICY_FILE: reads the devices of the new rows' leavers (at most
   * MAX_PLAN_LEAVERS) and shows each device with its rule and actions (src/device-policy/leaver-plans.ts).
   */
  devicePlans?: DevicePlanSource;
}

export interface ImportResult {
  /** Data rows read (header excluded, unparseable rows included). */
  lines: number;
  /** Jobs created (plan: rows that would create a job). */
  accepted: number;
  /** Repeats inside the file plus users with a pending job already. */
  duplicate: number;
  invalid: number;
  /** Set when the import was larger than GUARD_THRESHOLD: nothing was enqueued. */
  held?: BatchSummary;
  /** Plan: the import would be held by the guard. */
  wouldHold?: boolean;
  /** Why it is (or would be) held, for people: threshold or rolling window. */
  holdReason?: string;
  /** A plan: nothing was enqueued or held. */
  plan: boolean;
  errors: { line: number; error: string }[];
  /** Errors beyond maxErrors, reported through onRowError only. */
  errorsOmitted: number;
  /** A plan with devices read: per new leaver, each device with its rule and actions. */
  devicePlans?: LeaverDevicePlan[];
  /** New leavers whose devices were not read (past MAX_PLAN_LEAVERS). */
  devicePlansOmitted?: number;
}

interface Parsed {
  record: string[];
  line: number;
}

const UNPARSEABLE = 'row is not valid CSV (unclosed quote or a field over 64 KiB)';

export async function importCsv(
  ctx: QueueContext,
  input: Readable,
  opts: ImportOptions,
): Promise<ImportResult> {
  const chunkSize = opts.chunkSize ?? 1000;
  const maxErrors = opts.maxErrors ?? 100_000;
  const plan = opts.plan === true;
  if (opts.tz) assertTimeZone(opts.tz);
  const result: ImportResult = {
    lines: 0,
    accepted: 0,
    duplicate: 0,
    invalid: 0,
    plan,
    errors: [],
    errorsOmitted: 0,
  };
  const rowError = (line: number, error: string) => {
    if (result.errors.length < maxErrors) result.errors.push({ line, error });
    else result.errorsOmitted++;
    opts.onRowError?.({ line, error });
  };
  const parser = openParser(input);
  let staged = 0;
  const progress = (phase: ImportProgress['phase'], enqueued = 0) =>
    opts.onProgress?.({ phase, lines: result.lines, bytes: parser.info.bytes, staged, enqueued });
  const rows = readRows(parser, opts.tz, () => result.lines++);
  // Only the first MAX_PLAN_LEAVERS are kept: a 100,000-row plan stays in constant memory.
  const planned: { user: string; profile: string }[] = [];
  let notRead = 0;
  const readDevices = plan && !!ctx.config.devicePolicy && !!opts.devicePlans;
  try {
    // Rows in file order (a real run's accepted rows once enqueued); counts kept by runBulk.
    const run = await runBulk(ctx, rows, {
      plan,
      meta: opts.meta,
      chunkSize,
      store: 'redis',
      onRow: ({ n, ...rest }) => {
        if (rest.status === 'invalid') rowError(n, rest.error);
        else if (readDevices && rest.status === 'new' && rest.devicePolicy) {
          if (planned.length < MAX_PLAN_LEAVERS)
            planned.push({ user: rest.user, profile: rest.devicePolicy });
          else notRead++;
        }
        opts.onRow?.({ line: n, ...rest });
      },
      onStaged: (count) => {
        staged = count;
        progress('reading');
      },
      onEnqueued: (done) => progress('enqueueing', done),
    });
    result.accepted = run.accepted;
    result.duplicate = run.duplicate;
    result.invalid = run.invalid;
    if (plan) result.wouldHold = run.wouldHold === true;
    if (run.held) result.held = run.held;
    if (run.held || run.wouldHold) result.holdReason = holdCauseText(ctx, run.cause);
    // Pending jobs that duplicates folded into: someone else's are hidden from a producer.
    const joined = run.joined;
    if (opts.producerView && joined.length > 0) {
      const foreign = await othersJobs(ctx, joined, opts.meta.requestedBy);
      const hidden = joined.filter((id) => foreign.has(id)).length;
      result.duplicate -= hidden;
      result.accepted += hidden;
    }
    if (readDevices && opts.devicePlans && planned.length > 0) {
      result.devicePlans = await opts.devicePlans(planned);
      result.devicePlansOmitted = notRead;
    }
    // A plan changes nothing but reads who is pending: recorded like every other look at users.
    if (plan) await auditPlan(ctx, opts.meta, result);
    progress('done');
    return result;
  } finally {
    if (!parser.destroyed) parser.destroy();
    // Stopped early (bad header, Redis down): release the file instead of leaving it piped.
    if (!input.readableEnded) {
      input.unpipe(parser);
      input.destroy();
    }
  }
}

async function auditPlan(ctx: QueueContext, meta: SubmitMeta, r: ImportResult): Promise<void> {
  await appendAudit(ctx, {
    type: 'planned',
    actor: meta.requestedBy,
    at: new Date().toISOString(),
    details: {
      source: meta.source,
      lines: r.lines,
      new: r.accepted,
      duplicate: r.duplicate,
      invalid: r.invalid,
      wouldHold: r.wouldHold === true,
      ...(r.devicePlans ? { devicesReadFor: r.devicePlans.length } : {}),
    },
  });
}

type Parser = ReturnType<typeof parse> & { skipped: Parsed[] };

/** csv-parse with start lines tracked inside its callbacks, which run in file order. */
function openParser(input: Readable): Parser {
  let prevEnd = 0;
  let prevEmpty = 0;
  const skipped: Parsed[] = [];
  const options: Options<Parsed, string[]> = {
    bom: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    relax_quotes: true,
    relax_column_count: true,
    max_record_size: 64 * 1024,
    on_record: (record: string[], info): Parsed => {
      const line = prevEnd + 1 + (info.empty_lines - prevEmpty);
      prevEnd = info.lines;
      prevEmpty = info.empty_lines;
      return { record, line };
    },
    on_skip: () => {
      skipped.push({ record: [], line: prevEnd + 1 });
      prevEnd = parser.info.lines;
      prevEmpty = parser.info.empty_lines;
      return undefined;
    },
  };
  const parser = Object.assign(parse(options as unknown as Options), { skipped });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  return parser;
}

/**
 * The data rows as pipeline items, in file order: the header row is read first, unparseable rows
 * come back refused at their line. A file without a header row is refused as a whole.
 */
async function* readRows(
  parser: Parser,
  tz: string | undefined,
  counted: () => void,
): AsyncGenerator<BulkInput> {
  const { skipped } = parser;
  let header: Header | undefined;
  for await (const row of parser as AsyncIterable<Parsed>) {
    // Parsing runs ahead of this loop: report only the failures that precede this row.
    while (skipped.length > 0 && (skipped[0] as Parsed).line < row.line) {
      counted();
      yield { n: (skipped.shift() as Parsed).line, refused: UNPARSEABLE };
    }
    if (!header) {
      header = parseHeader(row.record);
      continue;
    }
    counted();
    const user = row.record[header.columns.indexOf('user')];
    let next: BulkInput;
    try {
      next = { n: row.line, item: rowToRequest(row.record, header, tz), user };
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      next = { n: row.line, refused: err.message, user };
    }
    yield next;
  }
  const rest = skipped.splice(0);
  if (!header) throw new ImportFormatError('file is empty: expected a header row with a "user" column');
  for (const s of rest) {
    counted();
    yield { n: s.line, refused: UNPARSEABLE };
  }
}
