// Issue 19 item 8: device names that split or run as formulas in a `;`-separator Excel. The export is
// fetched from a live API over loopback (evidence saved on a real Redis) and read back with csv-parse:
// every hostile value stays one cell and no cell starts a formula.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { csvCell } from '../../src/evidence/csv.js';
import { saveEvidence } from '../../src/evidence/store.js';
import type { EvidenceRecord } from '../../src/interfaces.js';
import { bearer, KEYS, liveApi, type TestApi, testApp } from '../api/helpers.js';

const HOSTILE = [
  `Bob;=cmd|' /C calc'!A0`,
  'x\t=5+5',
  ' =1+1',
  '\t=2+2',
  '  @SUM(A1)',
  'trailing ',
  'semi;colon',
  'say "hi"',
  'two\nlines',
];

/** What a spreadsheet would evaluate: a formula start after any leading whitespace. */
const FORMULA = /^\s*[=+\-@]/;

describe('csvCell: the rule of issue 19', () => {
  it.each([
    [`Bob;=cmd|' /C calc'!A0`, `"Bob;=cmd|' /C calc'!A0"`],
    ['x\t=5+5', '"x\t=5+5"'],
    [' =1+1', `"' =1+1"`],
    ['  -3', `"'  -3"`],
    ['a;b', '"a;b"'],
    ['end ', '"end "'],
    ['plain name', 'plain name'],
  ])('%j → %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });
});

describe('GET /v1/evidence?format=csv with hostile device names', () => {
  let t: TestApi;
  let api: RunningApi;

  beforeAll(async () => {
    t = await testApp();
    api = await liveApi(t.redis);
    const at = new Date(Date.now() - 60_000).toISOString();
    const record: EvidenceRecord = {
      jobId: 'csv-hostile-1',
      user: 'csv-hostile@contoso.com',
      requestedBy: 'hr-system',
      correlationId: 'c-csv',
      source: 'api',
      inventoriedAt: at,
      inventoryRequestIds: ['inv-1'],
      devices: HOSTILE.map((name, i) => ({ id: `hd-${i}`, deviceName: name, managementState: 'managed' })),
      action: { at, requestId: 'req-csv', status: 204 },
      outcome: 'retired',
      verification: { state: 'pending', checks: 0, devices: [] },
    };
    await saveEvidence(t.ctx.redis, t.ctx.prefix, record, 86_400_000);
  });

  afterAll(async () => {
    await api?.close();
    await t?.close();
  });

  it('every hostile name is one quoted-or-defused cell read back whole, no formula start', async () => {
    const res = await fetch(`${api.url}/v1/evidence?format=csv`, { headers: bearer(KEYS.viewer) });
    expect(res.status).toBe(200);
    const text = await res.text();
    const rows = parse(text) as string[][];
    expect(rows).toHaveLength(1 + HOSTILE.length);
    const header = rows[0] ?? [];
    // Nothing split: every record has the header's width, and no cell starts a formula.
    for (const row of rows) {
      expect(row).toHaveLength(header.length);
      for (const cell of row) expect(cell).not.toMatch(FORMULA);
    }
    const nameCol = header.indexOf('deviceName');
    expect(nameCol).toBeGreaterThanOrEqual(0);
    const names = rows.slice(1).map((r) => r[nameCol]);
    // Read back: the value as it was, with the visible `'` only where it would have been a formula.
    expect(names).toEqual(HOSTILE.map((n) => (/^(?:\s*[=+\-@]|[\t\r])/.test(n) ? `'${n}` : n)));
    // A `;`-separator reader keeps the quoted cell whole, so `=cmd` never starts a cell of its own.
    expect(text).toContain(`"Bob;=cmd|' /C calc'!A0"`);
  });
});
