// Streaming CSV import. Rows are parsed with csv-parse, validated, and staged in Redis in chunks
// (the batch's item list plus a user set for deduplication); the process holds one chunk at a
// time, so 100 000 rows need the same memory as 1 000. Only at the end is the number of valid
// distinct users known, and only then does the guard decide:
//   ≤ GUARD_THRESHOLD → the staged list is enqueued chunk by chunk (enqueueMany) and deleted;
//   > GUARD_THRESHOLD → the staged list becomes ONE held batch, as it stands, with no copying.
// A crash before that decision leaves only staging keys, which expire by themselves.
import type { Readable } from 'node:stream';
import { type Options, parse } from 'csv-parse';
import { holdStaging, type SubmitMeta, withDryRun } from '../guard/batches.js';
import {
  dropStaging,
  enqueueStaged,
  openStaging,
  type Staging,
  stageChunk,
  stagedUsers,
} from '../guard/staging.js';
import type { BatchSummary, StagedItem } from '../guard/types.js';
import { admitWithoutApproval, holdCauseText, overThreshold } from '../guard/window.js';
import { pendingKey } from '../intake/pending.js';
import { assertTimeZone } from '../intake/timezone.js';
import { InvalidRequestError, validateRequest } from '../intake/validate.js';
import type { QueueContext } from '../queue/context.js';
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
}

interface Parsed {
  record: string[];
  line: number;
}

/** A row on its way to Redis: valid (`r`) or refused (`error`), kept in order for the plan. */
interface Pending {
  n: number;
  r?: StagedItem['r'];
  error?: string;
  user?: string;
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
  const rowError = (line: number, error: string, user?: string) => {
    result.invalid++;
    if (result.errors.length < maxErrors) result.errors.push({ line, error });
    else result.errorsOmitted++;
    opts.onRowError?.({ line, error });
    opts.onRow?.({ line, status: 'invalid', error, ...(user ? { user: user.slice(0, 200) } : {}) });
  };
  const sink: Sink = { result, onRow: opts.onRow, rowError };

  // Start lines are tracked inside the parser's callbacks, which run in file order.
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
  const parser = parse(options as unknown as Options);
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  const st = openStaging();
  let header: Header | undefined;
  let buffer: Pending[] = [];
  const progress = (phase: ImportProgress['phase'], enqueued = 0) =>
    opts.onProgress?.({ phase, lines: result.lines, bytes: parser.info.bytes, staged: st.count, enqueued });

  const flush = async () => {
    const chunk = buffer;
    buffer = [];
    if (chunk.length > 0) await stageRows(ctx, st, chunk, plan, sink);
    progress('reading');
  };

  try {
    for await (const row of parser as AsyncIterable<Parsed>) {
      // Parsing runs ahead of this loop: report only the failures that precede this row.
      while (skipped.length > 0 && (skipped[0] as Parsed).line < row.line) {
        result.lines++;
        buffer.push({ n: (skipped.shift() as Parsed).line, error: UNPARSEABLE });
      }
      if (!header) {
        header = parseHeader(row.record);
        continue;
      }
      result.lines++;
      try {
        const r = validateRequest(withDryRun(rowToRequest(row.record, header, opts.tz), opts.meta.dryRun));
        buffer.push({ n: row.line, r });
      } catch (err) {
        if (!(err instanceof InvalidRequestError)) throw err;
        buffer.push({ n: row.line, error: err.message, user: row.record[header.columns.indexOf('user')] });
      }
      if (buffer.length >= chunkSize) await flush();
    }
    for (const s of skipped.splice(0)) {
      result.lines++;
      buffer.push({ n: s.line, error: UNPARSEABLE });
    }
    if (!header) throw new ImportFormatError('file is empty: expected a header row with a "user" column');
    await flush();

    // Over the threshold needs no look at the window; under it, the window decides (and reserves).
    const admission =
      overThreshold(ctx, st.count) ??
      (await admitWithoutApproval(ctx, opts.meta.requestedBy, await stagedUsers(ctx, st.id), {
        reserve: !plan,
      }));
    if (!admission.admitted) result.holdReason = holdCauseText(ctx, admission.cause);
    if (plan) {
      result.wouldHold = !admission.admitted;
    } else if (!admission.admitted) {
      result.held = await holdStaging(ctx, st, { meta: opts.meta, invalid: result.invalid, admission });
    } else if (st.count > 0) {
      const { dryRun: _dry, ...meta } = opts.meta;
      await enqueueStaged(ctx, st.id, meta, {
        chunkSize,
        onChunk: (results, done) => {
          for (const r of results) {
            if (r.status === 'invalid') {
              // Validated while reading already; kept for safety if rules changed in between.
              rowError(r.index, r.error, r.user);
              continue;
            }
            if (r.status === 'accepted') result.accepted++;
            else result.duplicate++;
            opts.onRow?.({ line: r.index, user: r.user, status: r.status, jobId: r.id });
          }
          progress('enqueueing', done);
        },
      });
    }
    progress('done');
    return result;
  } finally {
    if (!result.held) await dropStaging(ctx, st.id).catch(() => {});
    if (!parser.destroyed) parser.destroy();
    // Stopped early (bad header, Redis down): release the file instead of leaving it piped.
    if (!input.readableEnded) {
      input.unpipe(parser);
      input.destroy();
    }
  }
}

interface Sink {
  result: ImportResult;
  onRow: ImportOptions['onRow'];
  rowError: (line: number, error: string, user?: string) => void;
}

/**
 * Reports the chunk's invalid rows and stages its valid ones, in file order. A plan stages
 * only the user set and asks which first occurrences already have a pending job.
 */
async function stageRows(
  ctx: QueueContext,
  st: Staging,
  chunk: Pending[],
  plan: boolean,
  sink: Sink,
): Promise<void> {
  const valid = chunk.filter((p): p is Pending & { r: StagedItem['r'] } => p.r !== undefined);
  const items: StagedItem[] = valid.map((p) => ({ n: p.n, r: p.r }));
  const first = await stageChunk(ctx, st, items, { keepItems: !plan });
  const pending = plan
    ? await Promise.all(
        items.map((item, i) =>
          first[i]
            ? ctx.retire.getDeduplicationJobId(
                pendingKey(item.r.user, ctx.config.worker.dryRun || item.r.dryRun === true),
              )
            : null,
        ),
      )
    : [];
  let k = 0;
  for (const p of chunk) {
    if (!p.r) {
      sink.rowError(p.n, p.error ?? 'invalid row', p.user);
      continue;
    }
    const i = k++;
    const jobId = pending[i] ?? undefined;
    if (!first[i] || jobId) {
      sink.result.duplicate++;
      sink.onRow?.({ line: p.n, user: p.r.user, status: 'duplicate', ...(jobId ? { jobId } : {}) });
    } else if (plan) {
      sink.result.accepted++;
      sink.onRow?.({ line: p.n, user: p.r.user, status: 'new' });
    }
  }
}
