// `--tenant` on the CLI with a real TENANTS_FILE (issue 22): enqueue resolves the tenant like the
// API (missing with several tenants: exit 2), status shows one line per tenant and `--tenant` one
// tenant's figures, dlq and audit filter by tenant.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';
import { runCli } from '../cli/run-cli.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let ctx: QueueContext;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'tenants-cli-'));
  const file = join(dir, 'tenants.yaml');
  writeFileSync(
    file,
    `tenants:
  - name: contoso
    id: 11111111-2222-3333-4444-555555555555
  - name: fabrikam
    id: 22222222-2222-3333-4444-555555555555
`,
  );
  env = { REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, TENANTS_FILE: file, GUARD_THRESHOLD: '1000' };
  ctx = createQueueContext(testConfig(env));
  await moveToDeadLetter(
    ctx,
    {
      id: 'fab-1',
      data: {
        user: 'dead@fabrikam.com',
        dryRun: false,
        correlationId: 'c',
        requestedBy: 'x',
        requestedAt: new Date().toISOString(),
        source: 'api',
        tenant: 'fabrikam',
      },
    },
    { reason: 'not_found', lastStatus: 404, attempts: 1, throttledWaits: 0 },
  );
}, 60_000);

afterAll(async () => {
  await closeQueueContext(ctx);
  await redis.stop();
});

describe('CLI --tenant', () => {
  it('enqueue: the tenant is required with several, checked, and stored on the job', async () => {
    const missing = await runCli(['enqueue', 'a@contoso.com'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('tenant is required');
    const unknown = await runCli(['enqueue', 'a@contoso.com', '--tenant', 'nope'], env);
    expect(unknown.code).toBe(2);
    const ok = await runCli(
      ['enqueue', 'a@contoso.com', 'b@contoso.com', '--tenant', 'contoso', '--json'],
      env,
    );
    expect(ok.code).toBe(0);
    const out = JSON.parse(ok.stdout) as { results: { id: string }[] };
    for (const r of out.results) expect((await ctx.retire.getJob(r.id))?.data.tenant).toBe('contoso');
  }, 120_000);

  it('status: one line per tenant; --tenant shows that tenant only', async () => {
    const all = await runCli(['status'], env);
    expect(all.code).toBe(0);
    // Two contoso jobs: due now, or spread at the tenant's pace (paced, counted in its ETA).
    expect(all.stdout).toMatch(/tenant contoso {2}waiting \d {2}delayed \d/);
    const contoso = JSON.parse((await runCli(['status', '--tenant', 'contoso', '--json'], env)).stdout);
    expect(contoso.backlog.waiting + contoso.backlog.paced).toBe(2);
    expect(all.stdout).toMatch(/tenant fabrikam {2}waiting 0 .* dead-letter 1 /);
    const one = await runCli(['status', '--tenant', 'fabrikam', '--json'], env);
    expect(one.code).toBe(0);
    const s = JSON.parse(one.stdout) as { tenant: string; deadLetters: number; backlog: { waiting: number } };
    expect(s).toMatchObject({ tenant: 'fabrikam', deadLetters: 1, backlog: { waiting: 0 } });
    expect((await runCli(['status', '--tenant', 'nope'], env)).code).toBe(2);
  }, 120_000);

  it('dlq list and audit export filter by tenant', async () => {
    const contoso = await runCli(['dlq', 'list', '--tenant', 'contoso', '--json'], env);
    expect(JSON.parse(contoso.stdout).total).toBe(0);
    const fabrikam = await runCli(['dlq', 'list', '--tenant', 'fabrikam', '--json'], env);
    expect(JSON.parse(fabrikam.stdout).total).toBe(1);
    // Redrive of another tenant's dead letter under --tenant counts as missing: exit 1, kept.
    const redrive = await runCli(['dlq', 'redrive', 'dl-fab-1', '--tenant', 'contoso'], env);
    expect(redrive.code).toBe(1);
    expect(await ctx.deadLetter.getJob('dl-fab-1')).toBeDefined();
    const audit = await runCli(['audit', 'export', '--tenant', 'contoso'], env);
    expect(audit.code).toBe(0);
    const lines = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; user?: string });
    expect(
      lines
        .filter((l) => l.type === 'requested')
        .map((l) => l.user)
        .sort(),
    ).toEqual(['a@contoso.com', 'b@contoso.com']);
    const fab = await runCli(['audit', 'export', '--tenant', 'fabrikam'], env);
    expect(fab.stdout).not.toContain('a@contoso.com');
  }, 120_000);
});
