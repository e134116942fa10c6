// The evidence CSV: RFC 4180 quoting, formula injection defused in every cell, unicode kept as is,
// and the stream yields the header first and every row, in chunks.
import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, csvStream, UTF8_BOM } from '../../src/evidence/csv.js';

/** A minimal RFC 4180 reader, to prove the output reads back to exactly what went in. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell || row.length) throw new Error('last record not CRLF-terminated');
  return rows;
}

describe('csvCell', () => {
  it.each([
    ['=HYPERLINK("http://evil","x")', `"'=HYPERLINK(""http://evil"",""x"")"`],
    ['=1+2', "'=1+2"],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', `"'\tcmd"`],
    ['\r=1', `"'\r=1"`],
    ['a=b', 'a=b'],
    [' =1', `"' =1"`],
  ])('defuses formulas: %j → %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('quotes cells with quotes, commas and line breaks, doubling quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('Ann "the boss" Lee')).toBe('"Ann ""the boss"" Lee"');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line1\nline2')).toBe('"line1\nline2"');
    expect(csvCell('line1\r\nline2')).toBe('"line1\r\nline2"');
  });

  it('writes null and undefined as empty cells, keeps unicode as is', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('Zoë’s iPhone 🍏')).toBe('Zoë’s iPhone 🍏');
    expect(csvCell('山田のMacBook')).toBe('山田のMacBook');
  });
});

describe('csvLine and csvStream', () => {
  it('round-trips hostile values through an RFC 4180 reader (with the formula prefix kept visible)', () => {
    const values = ['=cmd|" /C calc"!A0', 'a,"b"\nc', '', 'Zoë', '-1', '@x'];
    const line = csvLine(values);
    expect(line.endsWith('\r\n')).toBe(true);
    expect(parseCsv(line)).toEqual([[`'=cmd|" /C calc"!A0`, 'a,"b"\nc', '', 'Zoë', "'-1", "'@x"]]);
  });

  it('streams the header then every row, in chunks, from an async source', async () => {
    async function* rows() {
      for (let i = 0; i < 2000; i++) yield { user: `u${i}@contoso.com`, name: i % 2 ? `=evil${i}` : null };
    }
    const chunks: string[] = [];
    for await (const c of csvStream(['user', 'name'] as const, rows(), { chunkBytes: 4096 })) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(5);
    const parsed = parseCsv(chunks.join(''));
    expect(parsed[0]).toEqual(['user', 'name']);
    expect(parsed).toHaveLength(2001);
    expect(parsed[1]).toEqual(['u0@contoso.com', '']);
    expect(parsed[2]).toEqual(['u1@contoso.com', "'=evil1"]);
  });

  it('writes only the header for no rows, and a BOM when asked', async () => {
    const plain: string[] = [];
    for await (const c of csvStream(['a', 'b'] as const, [])) plain.push(c);
    expect(plain.join('')).toBe('a,b\r\n');
    const bom: string[] = [];
    for await (const c of csvStream(['a'] as const, [{ a: 'x' }], { bom: true })) bom.push(c);
    expect(bom.join('')).toBe(`${UTF8_BOM}a\r\nx\r\n`);
  });
});
