// `offboard evidence [export]|verify|unverified`: proof of retirement from the command line. The
// export reads Redis directly (like `status` and `dlq`) and streams one row per device as CSV or
// JSON, the same rows as GET /v1/evidence; `verify` re-verifies a job (audited with the actor).
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { EvidenceKeyMissingError, NoDevicePlanError, readJobSecrets } from '../../device-actions/secrets.js';
import { csvStream } from '../../evidence/csv.js';
import {
  type ExportFilter,
  exportColumns,
  exportRange,
  exportRows,
  exportShowsActions,
  InvalidRangeError,
  jsonStream,
} from '../../evidence/export.js';
import { DEVICE_ACTION_COLUMNS, EVIDENCE_COLUMNS } from '../../evidence/rows.js';
import { EvidenceNotFoundError, NothingToVerifyError, requestReverify } from '../../evidence/schedule.js';
import { countEvidence, listUnverified } from '../../evidence/store.js';
import { VERIFICATION_STATES, type VerificationState } from '../../interfaces.js';
import { isValidId } from '../../queue/ids.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { safe } from '../escape.js';
import { outputStream, parseInstant, writeChunk } from '../export-io.js';
import { startProgress } from '../progress.js';
import { withQueueContext } from '../queue-context.js';
import { action, actor, printJson } from '../run.js';
import { tenantFilter } from '../tenant-option.js';

interface ExportOptions {
  from?: string;
  to?: string;
  batch?: string;
  state?: string;
  format?: string;
  bom?: boolean;
  out?: string;
  progress?: boolean;
  tenant?: string;
}

function filterOf(opts: ExportOptions): ExportFilter {
  const now = Date.now();
  const fromMs = opts.from !== undefined ? parseInstant(opts.from, '--from', now) : undefined;
  const toMs = opts.to !== undefined ? parseInstant(opts.to, '--to', now) : undefined;
  if (opts.batch !== undefined && !isValidId(opts.batch)) {
    throw new UsageError('--batch must be a batch id (letters, digits, _ and -)');
  }
  if (opts.state !== undefined && !(VERIFICATION_STATES as readonly string[]).includes(opts.state)) {
    throw new UsageError(`--state must be one of ${VERIFICATION_STATES.join(', ')}`);
  }
  try {
    return {
      ...exportRange({ fromMs, toMs, batchId: opts.batch }, now),
      ...(opts.batch !== undefined ? { batchId: opts.batch } : {}),
      ...(opts.state !== undefined ? { state: opts.state as VerificationState } : {}),
    };
  } catch (err) {
    if (err instanceof InvalidRangeError) throw new UsageError(`--from/--to: ${err.message}`);
    throw err;
  }
}

async function runExport(opts: ExportOptions): Promise<void> {
  const format = opts.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw new UsageError('--format must be csv or json');
  const base = filterOf(opts);
  await withQueueContext(async (ctx) => {
    const tenant = tenantFilter(ctx.config, opts.tenant);
    const filter = tenant ? { ...base, tenants: [tenant] } : base;
    // Opened before the first read, so an existing file is a clear error, not a half-written one.
    const out: Writable = await outputStream(opts.out);
    const counts = { leavers: 0, rows: 0 };
    // Counted per leaver read; the total is the index's count for the range (one ZCOUNT).
    const bar = startProgress(
      opts,
      await countEvidence(ctx.redis, ctx.prefix, filter.fromMs, filter.toMs - 1),
      ' {bar} {percentage}% | {value}/{total} leavers | {rows} rows | ETA {eta_formatted}',
      { rows: 0 },
    );
    // With a device policy: one row per device × action, its columns at the end.
    const actions = exportShowsActions(ctx.config);
    const columns = exportColumns(actions);
    const rows = exportRows(ctx.redis, ctx.prefix, filter, counts, { actions });
    const chunks =
      format === 'csv'
        ? csvStream(columns, rows, { bom: !!opts.bom })
        : jsonStream(filter, rows, counts, undefined, columns);
    try {
      for await (const chunk of chunks) {
        await writeChunk(out, chunk);
        bar?.update(counts.leavers, { rows: counts.rows });
      }
      bar?.finish();
    } finally {
      bar?.stop();
    }
    if (opts.out) {
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    }
    // On standard error, so `> evidence.csv` keeps only the export.
    process.stderr.write(
      safe`${counts.rows} rows (${counts.leavers} leavers, inventoried ${new Date(filter.fromMs).toISOString()} to ${new Date(filter.toMs).toISOString()})${opts.out ? ` written to ${opts.out}` : ''}\n`,
    );
  });
}

async function runSecrets(opts: { job: string; as?: string; json?: boolean }): Promise<void> {
  const who = actor(opts.as);
  if (!isValidId(opts.job)) throw new UsageError('--job must be a job id (letters, digits, _ and -)');
  await withQueueContext(async (ctx) => {
    let r: Awaited<ReturnType<typeof readJobSecrets>>;
    try {
      r = await readJobSecrets(ctx, { jobId: opts.job, actor: who, via: 'cli' });
    } catch (err) {
      if (err instanceof NoDevicePlanError || err instanceof EvidenceKeyMissingError) {
        throw new CommandFailedError(err.message);
      }
      throw err;
    }
    if (opts.json) return printJson(r);
    for (const s of r.secrets) {
      process.stdout.write(
        safe`${s.deviceId}  ${s.kind}  stored ${s.storedAt}  ${s.value ?? `unreadable: ${s.error ?? '?'}`}\n`,
      );
    }
    process.stdout.write(
      `${r.secrets.length} secret${r.secrets.length === 1 ? '' : 's'} for job ${r.jobId}\n`,
    );
  });
}

export function configure(cmd: Command): void {
  const evidence = cmd.addHelpText(
    'after',
    `
Examples:
  offboard evidence --from 2026-12-01 --to 2026-12-02 --format csv > evidence.csv
  offboard evidence --batch 3f0c2a9e-1b7d-4c55-9e0a-2d1f7b6c5a40 --format json
  offboard evidence unverified
  offboard evidence verify 6a1c7c9e-2f1d-4a55-9d0e-1f0b7a3c2d11 --as alice`,
  );

  evidence
    .command('export', { isDefault: true })
    .description('Write the evidence, one row per device, as CSV or JSON (the default subcommand)')
    .option(
      '--from <when>',
      'inventoried from (inclusive): 2026-12-01 (UTC), an ISO 8601 instant, or 24h / 7d back',
    )
    .option('--to <when>', 'inventoried up to (exclusive), same forms; default now')
    .option('--batch <id>', 'only the leavers of this batch (without --from: the last 400 days)')
    .option('--state <state>', `only leavers whose verification is ${VERIFICATION_STATES.join(', ')}`)
    .option('--format <format>', 'csv or json', 'csv')
    .option('--bom', 'CSV: start with a UTF-8 byte order mark (for Excel)')
    .option('--tenant <name>', "TENANTS_FILE: only this tenant's leavers")
    .option('--out <file>', 'write to this file instead of standard output (created, never overwritten)')
    .option('--no-progress', 'no progress bar on standard error (there is none when it is not a terminal)')
    .addHelpText(
      'after',
      `
Examples:
  offboard evidence export --from 2026-12-01 --to 2026-12-02 > evidence.csv
  offboard evidence --state unverified --from 30d --format json --out unverified.json

Without --from: the last 24 hours. A range covers at most 400 days. Columns: ${EVIDENCE_COLUMNS.join(', ')}; with a device policy one row per device × action, then ${DEVICE_ACTION_COLUMNS.join(', ')}.
Cells a spreadsheet would run as a formula (= + - @ tab CR) start with '.
Exit codes: 0 written, 1 failure (Redis, file exists), 2 invalid option.`,
    )
    .action(action(runExport));

  evidence
    .command('verify')
    .description("Verify a job's devices again: re-read them until now + VERIFY_WINDOW (audited)")
    .argument('<jobId>', 'the retire job id')
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Example:
  offboard evidence verify 6a1c7c9e-2f1d-4a55-9d0e-1f0b7a3c2d11 --as alice

Exit codes: 0 scheduled, 1 no such job or nothing to verify, 2 usage.`,
    )
    .action(
      action(async (jobId: string, opts: { as?: string; json?: boolean }) => {
        const who = actor(opts.as);
        if (!isValidId(jobId)) throw new UsageError('<jobId> must be a job id (letters, digits, _ and -)');
        await withQueueContext(async (ctx) => {
          let r: Awaited<ReturnType<typeof requestReverify>>;
          try {
            r = await requestReverify(ctx, jobId, who, ctx.config);
          } catch (err) {
            if (err instanceof EvidenceNotFoundError || err instanceof NothingToVerifyError) {
              throw new CommandFailedError(`job ${jobId}: ${err.message}`);
            }
            throw err;
          }
          if (opts.json) return printJson(r);
          process.stdout.write(
            safe`re-verifying job ${r.jobId} (${r.user}): verify job ${r.verifyJobId}, reads until ${r.deadline}\n`,
          );
        });
      }),
    );

  evidence
    .command('secrets')
    .description(
      "Show a job's Activation Lock bypass codes, decrypted (needs EVIDENCE_KEY; audited `secret-read`)",
    )
    .requiredOption('--job <id>', 'the retire job id')
    .option('--as <name>', 'who is reading (default: your OS user name); recorded in the audit')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Example:
  EVIDENCE_KEY=… offboard evidence secrets --job 6a1c7c9e-2f1d-4a55-9d0e-1f0b7a3c2d11 --as alice

Every read is written to the audit (type secret-read, with --as) before the codes are printed.
Exit codes: 0 printed, 1 no device plan for the job or EVIDENCE_KEY not set, 2 usage.`,
    )
    .action(action(runSecrets));

  evidence
    .command('unverified')
    .description('List leavers whose verification ended unverified, newest first')
    .option('--limit <n>', 'at most this many (max 10000)', '100')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  offboard evidence unverified --limit 20')
    .action(
      action(async (opts: { limit?: string; json?: boolean }) => {
        const limit = Number(opts.limit ?? '100');
        if (!/^\d+$/.test(opts.limit ?? '100') || limit < 1 || limit > 10_000) {
          throw new UsageError('--limit must be a whole number from 1 to 10000');
        }
        await withQueueContext(async (ctx) => {
          const list = await listUnverified(ctx.redis, ctx.prefix, { limit });
          if (opts.json) return printJson({ items: list });
          for (const r of list) {
            const open = r.verification.devices.filter((d) => d.result !== 'retired');
            process.stdout.write(
              safe`${r.jobId}  ${r.user}  ended ${r.verification.endedAt ?? '?'}  ${open.map((d) => `${d.deviceId}:${d.result}${d.stateAfter ? `(${d.stateAfter})` : ''}`).join(' ')}\n`,
            );
          }
          process.stdout.write(`${list.length} unverified\n`);
        });
      }),
    );
}
