// RFC 4180 CSV for the evidence export, written line by line so a 10,000-leaver export never sits in
// memory. Device names, serial numbers and user names come from Intune and HR, i.e. from people who
// can type `=HYPERLINK(…)`: every cell that a spreadsheet would read as a formula is defused with a
// leading `'` (OWASP "CSV injection"), so the file is safe to open in Excel or LibreOffice.

/** First characters that make Excel, LibreOffice or Google Sheets evaluate a cell. */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** UTF-8 byte order mark: Excel only reads a CSV as UTF-8 when the file starts with it. */
export const UTF8_BOM = '\uFEFF';

/** One cell: null/undefined empty, formulas defused, quoted when it holds `"`, `,` or a line break. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One record, CRLF-terminated as RFC 4180 asks. */
export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/**
 * The header, then one line per row as `rows` yields them. Lines are batched into chunks of about
 * `chunkBytes` so a consumer (an HTTP response, a file) gets few large writes rather than many tiny ones.
 */
export async function* csvStream<C extends string>(
  columns: readonly C[],
  rows: AsyncIterable<Record<C, unknown>> | Iterable<Record<C, unknown>>,
  opts: { bom?: boolean; chunkBytes?: number } = {},
): AsyncGenerator<string> {
  const chunkBytes = opts.chunkBytes ?? 16_384;
  let chunk = (opts.bom ? UTF8_BOM : '') + csvLine(columns);
  for await (const row of rows) {
    chunk += csvLine(columns.map((c) => row[c]));
    if (chunk.length >= chunkBytes) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
