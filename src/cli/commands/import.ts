// `offboard import <file.csv>`: streams a CSV of leavers into the queue (or into one held batch
// when it is larger than GUARD_THRESHOLD). Bad rows are reported by line and never block good ones.
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { leaverPlanLines, omittedText } from '../../device-policy/describe.js';
import { graphDevicePlans, MAX_PLAN_LEAVERS } from '../../device-policy/leaver-plans.js';
import { type ImportResult, type ImportRowEvent, importCsv } from '../../import/csv.js';
import { assertTimeZone, InvalidTimeZoneError } from '../../values/timezone.js';
import { usageOnBadProfile } from '../device-policy-option.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { safe } from '../escape.js';
import { withQueueContext } from '../queue-context.js';
import { action, actor, config } from '../run.js';
import { producerTenant } from '../tenant-option.js';

interface ImportOptions {
  tz?: string;
  /** `--dry-run` (its public name) or `--plan`: a plan, nothing enqueued. */
  dryRun?: boolean;
  plan?: boolean;
  dryRunJobs?: boolean;
  devicePolicy?: string;
  progress?: boolean;
  as?: string;
  json?: boolean;
  tenant?: string;
}

function open(file: string): { stream: Readable; size: number } {
  if (file === '-') return { stream: process.stdin, size: 0 };
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new UsageError(`${file} is not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return { stream: createReadStream(file), size };
}

/**
 * The plan as one JSON document, written row by row so a 100 000-row plan never sits in memory.
 * Its `dryRun` keys are the CLI's public output (named after `--dry-run`), kept as they were.
 */
function jsonPlanWriter() {
  let first = true;
  process.stdout.write('{"dryRun":true,"rows":[');
  return {
    row(r: ImportRowEvent) {
      process.stdout.write(`${first ? '\n' : ',\n'}${JSON.stringify(r)}`);
      first = false;
    },
    end(result: ImportResult) {
      const { errors: _e, devicePlans, ...totals } = cliJson(result);
      const devices = devicePlans ? `,"devicePlans":${JSON.stringify(devicePlans)}` : '';
      process.stdout.write(`\n],"totals":${JSON.stringify(totals)}${devices}}\n`);
    },
  };
}

/** The result as `--json` prints it: the library's `plan` under the public key `dryRun`. */
function cliJson(r: ImportResult) {
  const { plan, ...rest } = r;
  return { ...rest, dryRun: plan };
}

function summary(r: ImportResult, threshold: number): string {
  const counts = `${r.lines} rows: ${r.accepted} ${r.plan ? 'new' : 'accepted'}, ${r.duplicate} duplicate, ${r.invalid} invalid`;
  if (r.held) {
    return (
      `${counts}\nheld for approval: batch ${r.held.id} (${r.held.count} users, ${r.holdReason ?? `more than GUARD_THRESHOLD=${threshold} users`}); nothing enqueued\n` +
      `approve with: offboard batches approve ${r.held.id}`
    );
  }
  if (r.plan) {
    return `dry run, nothing enqueued: ${counts}${r.wouldHold ? `\nwould be held for approval (${r.holdReason ?? `more than GUARD_THRESHOLD=${threshold} users`})` : ''}`;
  }
  return counts;
}

export function configure(cmd: Command): void {
  cmd
    .argument('<file.csv>', 'CSV file, or - for standard input')
    .option('--tz <zone>', 'IANA time zone for effectiveAt values without an offset (e.g. 2026-12-01)')
    .option('--dry-run', 'print the plan per row (new / duplicate / invalid) and totals; enqueue nothing')
    .option('--plan', 'the same as --dry-run')
    .option('--dry-run-jobs', 'enqueue, but the jobs record outcome dry_run instead of calling Graph')
    .option(
      '--device-policy <profile>',
      'device policy profile for rows without a devicePolicy value (DEVICE_POLICY_FILE; default: its default)',
    )
    .option('--no-progress', 'no progress bar (there is none when stderr is not a terminal anyway)')
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON (the dry-run plan as {rows, totals})')
    .option(
      '--tenant <name>',
      'TENANTS_FILE: the tenant of rows without a tenant column (a file is for one tenant)',
    )
    .addHelpText(
      'after',
      `
CSV format (header row required, column names case-insensitive):
  user,effectiveAt,reason[,devicePolicy]  (also correlationId, and tenant with a TENANTS_FILE)
  alice@contoso.com,2026-12-01T17:00:00+01:00,resigned
  3f2504e0-4f89-11d3-9a0c-0305e82c3301,2026-12-01,contract ended   (date → needs --tz)

Examples:
  offboard import leavers.csv --dry-run
  offboard import leavers.csv --tz Europe/Berlin --as alice
  cat leavers.csv | offboard import - --json

More valid distinct users than GUARD_THRESHOLD → the whole file becomes ONE batch held for
approval (offboard batches approve <id>). Bad rows are reported with their line number.
A plain date (2026-12-01) means 00:00 that day in --tz; give a time for another moment.
Exit codes: 0 all rows fine, 1 some rows invalid (valid rows still queued) or failure, 2 usage.`,
    )
    .action(
      action(async (file: string, opts: ImportOptions) => {
        const who = actor(opts.as);
        const tenant = opts.tenant !== undefined ? producerTenant(config(), opts.tenant) : undefined;
        if (opts.tz) {
          try {
            assertTimeZone(opts.tz);
          } catch (err) {
            if (err instanceof InvalidTimeZoneError) throw new UsageError(`--tz: ${err.message}`);
            throw err;
          }
        }
        const { stream, size } = open(file);
        // No bar with --json: stderr then carries JSON errors only.
        const useBar = opts.progress !== false && !opts.json && !!process.stderr.isTTY && size > 0;
        const bar = useBar
          ? new SingleBar({
              stream: process.stderr,
              format: ' {bar} {percentage}% | {rows} rows | {phase} | ETA {eta_formatted}',
              hideCursor: true,
            })
          : null;
        const plan = opts.dryRun === true || opts.plan === true;
        const planJson = plan && opts.json ? jsonPlanWriter() : null;
        let threshold = 0;
        const result = await withQueueContext(async (ctx) => {
          threshold = ctx.config.guard.threshold;
          usageOnBadProfile(ctx, opts.devicePolicy);
          // A plan under a device policy reads each new leaver's devices (GETs, read pacer).
          const reader = plan && ctx.config.devicePolicy ? graphDevicePlans(ctx) : null;
          bar?.start(size, 0, { rows: 0, phase: 'reading' });
          try {
            return await importCsv(ctx, stream, {
              meta: {
                requestedBy: who,
                source: 'import',
                ...(opts.dryRunJobs ? { dryRun: true } : {}),
                ...(opts.devicePolicy !== undefined ? { devicePolicy: opts.devicePolicy } : {}),
                ...(tenant ? { tenant } : {}),
              },
              plan,
              tz: opts.tz,
              ...(reader ? { devicePlans: reader.read } : {}),
              onProgress: (p) => {
                // Two phases on one bar: bytes read, then staged rows written to the queue.
                if (p.phase === 'enqueueing') {
                  if (bar?.getTotal() !== p.staged) bar?.setTotal(p.staged);
                  bar?.update(p.enqueued, { rows: p.enqueued, phase: 'enqueueing' });
                } else if (p.phase === 'reading')
                  bar?.update(Math.min(p.bytes, size), { rows: p.lines, phase: 'reading' });
              },
              onRow: plan
                ? (r) => {
                    if (planJson) planJson.row(r);
                    else if (r.status !== 'invalid') {
                      process.stdout.write(
                        safe`line ${r.line}\t${r.status}\t${r.user ?? ''}${r.jobId ? `\tpending job ${r.jobId}` : ''}\n`,
                      );
                    }
                  }
                : undefined,
              onRowError: opts.json
                ? undefined
                : (e) => process.stderr.write(safe`line ${e.line}: ${e.error}\n`),
            });
          } finally {
            bar?.stop();
            await reader?.close();
          }
        });
        if (planJson) planJson.end(result);
        else if (opts.json) process.stdout.write(`${JSON.stringify(cliJson(result), null, 2)}\n`);
        else {
          for (const p of result.devicePlans ?? []) {
            for (const l of leaverPlanLines(p)) process.stdout.write(safe`${l}\n`);
          }
          if (result.devicePlansOmitted) {
            process.stdout.write(`${omittedText(result.devicePlansOmitted, MAX_PLAN_LEAVERS)}\n`);
          }
          process.stdout.write(`${summary(result, threshold)}\n`); // counts and ids only: nothing to escape
        }
        if (result.invalid > 0) {
          // Exit 1 without repeating every line: they were printed above (or are in the JSON).
          throw new CommandFailedError(
            `${result.invalid} invalid row(s)${result.plan ? '' : '; valid rows were processed'}`,
          );
        }
      }),
    );
}
