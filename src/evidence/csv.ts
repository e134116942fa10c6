// RFC 4180 CSV for the evidence export, written line by line so a 10,000-leaver export never sits in
// memory. Device names, serial numbers and user names come from Intune and HR, i.e. from people who
// can type `=HYPERLINK(…)`: every cell that a spreadsheet would read as a formula is defused with a
// leading `'` (OWASP "CSV injection"), so the file is safe to open in Excel or LibreOffice, and every
// cell a `;`-separator locale or a trimming reader would split or change is quoted.
// Hand-written rather than csv-stringify: that library neither defuses formulas nor quotes on leading
// whitespace by itself, so the two rules below would be needed anyway; csv-parse reads it back in tests.

/**
 * Cells a spreadsheet would evaluate: `= + - @` as the first character after any leading whitespace
 * (Excel and LibreOffice skip leading spaces before a formula), or a leading tab or carriage return.
 */
const FORMULA_START = /^(?:\s*[=+\-@]|[\t\r])/;
/**
 * Cells quoted whatever the reader's separator: `,` and `;` (Excel in many European locales splits
 * on `;`), tab, quote, line breaks, and leading or trailing whitespace (which some readers trim).
 */
const NEEDS_QUOTES = /[",;\t\r\n]|^\s|\s$/;

/** UTF-8 byte order mark: Excel only reads a CSV as UTF-8 when the file starts with it. */
export const UTF8_BOM = '\uFEFF';

/** One cell: null/undefined empty, formulas defused with a leading `'`, quoted per NEEDS_QUOTES. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const raw = String(value);
  const s = FORMULA_START.test(raw) ? `'${raw}` : raw;
  return NEEDS_QUOTES.test(raw) || NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
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
