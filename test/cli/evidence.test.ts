// `offboard evidence [export]|verify|unverified` and the evidence in `offboard status <id>`, as child
// processes against a real Redis seeded with the store's own saveEvidence: exit codes, CSV and JSON
// on standard output, --out files, the audited re-verify with its actor.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVIDENCE_COLUMNS } from '../../src/evidence/rows.js';
import { getEvidence, saveEvidence } from '../../src/evidence/store.js';
import { enqueue } from '../../src/intake/enqueue.js';
import type { EvidenceRecord } from '../../src/interfaces.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { json, runCli } from './run-cli.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const DAY0 = Date.parse(`${iso(Date.now() - 5 * DAY).slice(0, 10)}T00:00:00Z`);
const day0 = iso(DAY0).slice(0, 10);
const day1 = iso(DAY0 + DAY).slice(0, 10);

let redis: TestRedis;
let ctx: QueueContext;
let env: Record<string, string>;
let dir: string;
let jobId: string;
const cli = (...args: string[]) => runCli(args, env);

function record(id: string, over: Partial<EvidenceRecord> = {}): EvidenceRecord {
  const at = over.inventoriedAt ?? iso(DAY0 + 3_600_000);
  return {
    jobId: id,
    user: `${id}@contoso.com`,
    requestedBy: 'test',
    correlationId: `c-${id}`,
    source: 'cli',
    inventoriedAt: at,
    inventoryRequestIds: [],
    devices: [
      { id: `${id}-a`, deviceName: '+SUM(1,2)', serialNumber: 'S,1', managementState: 'managed' },
      { id: `${id}-b`, deviceName: 'Ana’s Pixel', operatingSystem: 'Android', managementState: 'managed' },
    ],
    action: { at, requestId: `req-${id}`, status: 204 },
    outcome: 'retired',
    verification: {
      state: 'unverified',
      checks: 3,
      endedAt: at,
      devices: [
        { deviceId: `${id}-a`, result: 'retired', stateAfter: null, checkedAt: at },
        { deviceId: `${id}-b`, result: 'not_retired', stateAfter: 'retirePending', checkedAt: at },
      ],
    },
    ...over,
  };
}

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'offboard-cli-evidence-'));
  env = { REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix };
  ctx = createQueueContext(testConfig(env));
  jobId = (await enqueue(ctx, { user: 'cli-leaver@contoso.com' }, { requestedBy: 'test', source: 'cli' })).id;
  const save = (r: EvidenceRecord) => saveEvidence(ctx.redis, ctx.prefix, r, 400 * DAY);
  await save(record(jobId, { user: 'cli-leaver@contoso.com', batchId: 'b-1' }));
  await save(
    record('nodev', {
      devices: [],
      action: undefined,
      outcome: 'no_devices',
      verification: { state: 'not_applicable', checks: 0, devices: [] },
      batchId: 'b-1',
    }),
  );
  await save(
    record('verified', {
      inventoriedAt: iso(DAY0 + DAY),
      verification: { state: 'verified', checks: 1, endedAt: iso(DAY0 + DAY), devices: [] },
    }),
  );
});
afterAll(async () => {
  await closeQueueContext(ctx);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('offboard evidence export', { timeout: 180_000 }, () => {
  it('writes CSV for a date range to standard output (the default subcommand), counts on stderr', async () => {
    const r = await cli('evidence', '--from', day0, '--to', day1, '--format', 'csv');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\r\n');
    expect(lines[0]).toBe(EVIDENCE_COLUMNS.join(','));
    // Two devices of the job, one row for the leaver without devices; `verified` is on day1 (excluded).
    expect(lines.slice(1, -1)).toHaveLength(3);
    expect(r.stdout).toContain(`'+SUM(1,2)`);
    expect(r.stdout).toContain('"S,1"');
    expect(r.stdout).toContain('Ana’s Pixel');
    expect(r.stdout).not.toContain('verified@contoso.com');
    expect(r.stderr).toMatch(/3 rows \(2 leavers/);
  });

  it('writes JSON filtered by batch and by state, through `export` too', async () => {
    const [batch, state] = await Promise.all([
      cli('evidence', 'export', '--batch', 'b-1', '--format', 'json'),
      cli('evidence', '--from', day0, '--to', '1d', '--state', 'verified', '--format', 'json'),
    ]);
    expect(batch.code, batch.stderr).toBe(0);
    const b = json<{ rows: { jobId: string; deviceId: string | null }[]; leavers: number; count: number }>(
      batch,
    );
    expect(b.rows.map((x) => x.jobId).sort()).toEqual([jobId, jobId, 'nodev'].sort());
    expect(b).toMatchObject({ leavers: 2, count: 3 });
    expect(state.code, state.stderr).toBe(0);
    expect(json<{ rows: { jobId: string }[] }>(state).rows.map((x) => x.jobId)).toEqual([
      'verified',
      'verified',
    ]);
  });

  it('writes --out files, never overwriting one', async () => {
    const out = join(dir, 'evidence.csv');
    const first = await cli('evidence', '--batch', 'b-1', '--out', out, '--bom');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('');
    const text = readFileSync(out, 'utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(text.split('\r\n')).toHaveLength(1 + 3 + 1);
    const again = await cli('evidence', '--batch', 'b-1', '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists; not overwriting/);
    expect(readFileSync(out, 'utf8')).toBe(text);
  });

  it('refuses invalid options with exit 2 before touching Redis', async () => {
    const cases = [
      ['evidence', '--from', 'last tuesday'],
      ['evidence', '--format', 'xlsx'],
      ['evidence', '--state', 'done'],
      ['evidence', '--from', day1, '--to', day0],
      ['evidence', '--from', '2020-01-01', '--to', '2021-06-01'],
      ['evidence', '--batch', 'a:b'],
    ];
    for (let i = 0; i < cases.length; i += 3) {
      const results = await Promise.all(cases.slice(i, i + 3).map((c) => cli(...c)));
      results.forEach((r, k) => {
        expect(r.code, cases[i + k]?.join(' ')).toBe(2);
        expect(r.stdout).toBe('');
      });
    }
  });

  it('prints help with examples', async () => {
    const [top, verify] = await Promise.all([cli('evidence', '--help'), cli('evidence', 'verify', '--help')]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/offboard evidence --from 2026-12-01 --to 2026-12-02 --format csv/);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/Example/);
  });
});

describe('offboard evidence unverified and verify', { timeout: 180_000 }, () => {
  it('lists unverified leavers with the devices that are not retired', async () => {
    const r = await cli('evidence', 'unverified');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${jobId}  cli-leaver@contoso.com`);
    expect(r.stdout).toContain(`${jobId}-b:not_retired(retirePending)`);
    expect(r.stdout).not.toContain(`${jobId}-a:`);
    expect(r.stdout).toMatch(/1 unverified\n$/);
  });

  it('re-verifies a job, audited with the --as actor; unknown or empty jobs exit 1, bad ids 2', async () => {
    const r = await cli('evidence', 'verify', jobId, '--as', 'alice', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ jobId: string; previousState: string }>(r)).toMatchObject({
      jobId,
      previousState: 'unverified',
    });
    expect((await getEvidence(ctx.redis, ctx.prefix, jobId))?.verification.state).toBe('pending');
    const audit = await readAudit(ctx, { count: 100 });
    expect(audit.find((e) => e.type === 'reverify' && e.jobId === jobId)?.actor).toBe('alice');
    const [unknown, nodev, bad] = await Promise.all([
      cli('evidence', 'verify', 'no-such-job'),
      cli('evidence', 'verify', 'nodev'),
      cli('evidence', 'verify', 'a:b'),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no evidence/);
    expect(nodev.code).toBe(1);
    expect(nodev.stderr).toMatch(/nothing to verify/);
    expect(bad.code).toBe(2);
    const after = await readAudit(ctx, { count: 100 });
    expect(after.filter((e) => e.type === 'reverify')).toHaveLength(1);
  });

  it('`offboard status <id>` prints the evidence: the action and each device before → after', async () => {
    const r = await cli('status', jobId);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/evidence verification pending/);
    expect(r.stdout).toContain(`action    ${iso(DAY0 + 3_600_000)} HTTP 204 request-id req-${jobId}`);
    expect(r.stdout).toContain(
      `device    ${jobId}-b  Ana’s Pixel  Android  serial -  managed → not_retired (retirePending,`,
    );
    const asJson = await cli('status', jobId, '--json');
    expect(json<{ evidence: { devices: unknown[] } }>(asJson).evidence.devices).toHaveLength(2);
  });
});
