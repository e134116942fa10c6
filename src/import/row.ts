// The CSV shape: a header row naming the columns, then one leaver per row. Column names are
// matched case-insensitively; an unknown column is refused up front, because a typo such as
// "efective_at" would otherwise silently retire people today instead of on their leave date.
import { CataloguedError } from '../errors/catalogued-error.js';
import { InvalidRequestError } from '../intake/validate.js';
import { resolveEffectiveAt } from '../values/timezone.js';

// `tenant` (TENANTS_FILE): the row's tenant; one file is for one tenant (the front door checks it).
export const COLUMNS = ['user', 'effectiveAt', 'reason', 'correlationId', 'devicePolicy', 'tenant'] as const;
export type Column = (typeof COLUMNS)[number];

/** The file itself is unusable (no header, no user column, unknown columns): nothing is imported. */
export class ImportFormatError extends CataloguedError {
  override readonly name = 'ImportFormatError';
  readonly errorId = 'OFB_ERR_IMPORT_FORMAT';
}

export interface Header {
  columns: (Column | null)[];
}

export function parseHeader(record: string[]): Header {
  const byLower = new Map(COLUMNS.map((c) => [c.toLowerCase(), c]));
  const seen = new Set<Column>();
  const unknown: string[] = [];
  const columns = record.map((raw, i) => {
    const name = raw.trim();
    if (name === '' && i === record.length - 1) return null; // trailing comma
    const col = byLower.get(name.toLowerCase());
    if (!col) {
      unknown.push(JSON.stringify(name.slice(0, 40)));
      return null;
    }
    if (seen.has(col)) throw new ImportFormatError(`header names the column "${col}" twice`);
    seen.add(col);
    return col;
  });
  if (unknown.length > 0) {
    throw new ImportFormatError(
      `header has unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; allowed: ${COLUMNS.join(', ')}`,
    );
  }
  if (!seen.has('user')) {
    throw new ImportFormatError(`header row has no "user" column (allowed columns: ${COLUMNS.join(', ')})`);
  }
  return { columns };
}

/** One data row → a request object for validateRequest. Empty cells are absent values. */
export function rowToRequest(record: string[], header: Header, tz?: string): Record<string, unknown> {
  const extra = record.slice(header.columns.length).filter((v) => v.trim() !== '');
  if (extra.length > 0) {
    throw new InvalidRequestError(
      `row has ${record.length} fields but the header has ${header.columns.length}`,
      '',
    );
  }
  const out: Record<string, unknown> = {};
  header.columns.forEach((col, i) => {
    const value = record[i];
    if (!col || value === undefined || value.trim() === '') return;
    out[col] =
      col === 'effectiveAt' ? resolveEffectiveAt(value, tz) : col === 'reason' ? value : value.trim();
  });
  if (out.user === undefined) throw new InvalidRequestError('user is empty', 'user');
  return out;
}
