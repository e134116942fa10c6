// `offboard schedule add|list|remove|run`: scheduled sweeps of a CSV file or an HTTP JSON feed.
// The schedules live in Redis as BullMQ job schedulers; `offboard worker` processes the ticks.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createTokenProvider } from '../../entra/provider.js';
import { graphContext } from '../../graph/call.js';
import { createReadPacer } from '../../pacing/read-pacer.js';
import {
  feedDisplayUrl,
  formatDuration,
  parseSignedDuration,
  type ScheduleDef,
  type SweepSource,
} from '../../schedule/definition.js';
import {
  addSchedule,
  displayView,
  getSchedule,
  listSchedules,
  removeSchedule,
} from '../../schedule/schedules.js';
import { runSweep } from '../../schedule/sweep.js';
import { readSweepStatuses, type SweepStatus } from '../../schedule/sweep-status.js';
import type { SweepSummary } from '../../schedule/sweep-summary.js';
import { UsageError } from '../errors.js';
import { safe } from '../escape.js';
import { withQueueContext } from '../queue-context.js';
import { action, actor, config, printJson } from '../run.js';
import { producerTenant } from '../tenant-option.js';

interface EntraFlags {
  lookahead?: string;
  offset?: string;
  reconcile?: boolean;
}

function duration(flag: string, text: string): number {
  const ms = parseSignedDuration(text);
  if (ms === null)
    throw new UsageError(`${flag}: a duration such as 14d, 2h or -30m, not "${text.slice(0, 32)}"`);
  return ms;
}

function sourceOf(value: string, tokenEnv: string | undefined, entra: EntraFlags): SweepSource {
  // `entra` is a keyword (a CSV path is stored absolute, so a file named entra is ./entra).
  if (value === 'entra') {
    if (tokenEnv) throw new UsageError('--token-env applies to an http(s) feed source only');
    const offsetMs = entra.offset === undefined ? 0 : duration('--offset', entra.offset);
    return {
      type: 'entra',
      lookaheadMs: duration('--lookahead', entra.lookahead ?? '14d'),
      ...(offsetMs ? { offsetMs } : {}),
      reconcile: entra.reconcile ?? true,
    };
  }
  if (entra.lookahead !== undefined || entra.offset !== undefined || entra.reconcile !== undefined) {
    throw new UsageError('--lookahead, --offset and --reconcile/--no-reconcile apply to --source entra only');
  }
  if (/^https?:\/\//i.test(value)) return { type: 'http', url: value, ...(tokenEnv ? { tokenEnv } : {}) };
  if (tokenEnv) throw new UsageError('--token-env applies to an http(s) feed source only');
  // Stored absolute: the worker resolving it runs elsewhere, with another working directory.
  return { type: 'csv', path: resolve(value) };
}

function describe(source: SweepSource): string {
  if (source.type === 'entra') {
    const offset = source.offsetMs
      ? `, offset ${source.offsetMs > 0 ? '+' : ''}${formatDuration(source.offsetMs)}`
      : '';
    return `entra employeeLeaveDateTime, lookahead ${formatDuration(source.lookaheadMs)}${offset}, reconcile ${source.reconcile ? 'on' : 'off'}`;
  }
  return source.type === 'csv'
    ? `csv ${source.path}`
    : `http ${feedDisplayUrl(source.url)}${source.tokenEnv ? ` (token from $${source.tokenEnv})` : ''}`;
}

/** `ok`, `failing since … (reason)` or `not run yet`, and what the last good tick did. */
function health(s: SweepStatus | undefined): string {
  if (!s || (s.lastSuccessMs === 0 && s.lastFailureMs === 0)) return 'not run yet';
  const i = s.items;
  const last = s.lastSuccessMs
    ? `last good ${new Date(s.lastSuccessMs).toISOString()}: found ${i.found}, new ${i.new}, rescheduled ${i.rescheduled}, withdrawn ${i.withdrawn}, duplicate ${i.duplicate}, invalid ${i.invalid}${s.held ? ', held for approval' : ''}`
    : 'never succeeded';
  if (s.lastFailureMs > s.lastSuccessMs) {
    return `FAILING since ${new Date(s.lastFailureMs).toISOString()}: ${s.lastError ?? 'unknown error'}; ${last}`;
  }
  return `ok; ${last}`;
}

function summaryLine(s: SweepSummary): string {
  const entra =
    s.source === 'entra' ? `, rescheduled ${s.rescheduled ?? 0}, withdrawn ${s.withdrawn ?? 0}` : '';
  const window = s.window ? ` (leave dates ${s.window.from} .. ${s.window.to})` : '';
  const m = s.massWithdrawal;
  const mass = !m
    ? ''
    : m.blocked
      ? `; mass_withdrawal: ${m.count} pending leavers would be withdrawn (more than GUARD_THRESHOLD=${m.threshold}); none was withdrawn and the schedule is failing. Fix the leave dates in the source, or run again with --allow-mass-withdrawal --as NAME`
      : `; ${m.count} withdrawals (more than GUARD_THRESHOLD=${m.threshold}) allowed by ${m.allowedBy}`;
  return `sweep ${s.schedule}: found ${s.found}, new ${s.new}${entra}, duplicate ${s.duplicate}, invalid ${s.invalid}${s.held ? `, held as batch ${s.held}` : ''}${window}${mass}`;
}

interface AddOptions extends EntraFlags {
  cron: string;
  tz: string;
  source: string;
  tokenEnv?: string;
  dryRunJobs?: boolean;
  devicePolicy?: string;
  as?: string;
  json?: boolean;
  tenant?: string;
}

export function configure(cmd: Command): void {
  const schedule = cmd.addHelpText(
    'after',
    `
Examples:
  offboard schedule add nightly --cron "0 2 * * *" --tz Europe/Berlin --source /data/leavers.csv
  offboard schedule add hr-feed --cron "*/15 * * * *" --source https://hr.example.com/leavers --token-env OFFBOARD_FEED_TOKEN_HR
  offboard schedule add leavers --cron "*/15 * * * *" --tz Europe/Berlin --source entra --lookahead 14d --offset 2h
  offboard schedule list --json
  offboard schedule remove nightly

A tick runs in one of the running \`offboard worker\` processes (exactly once per tick); leavers are
deduplicated per user, more than GUARD_THRESHOLD are held for approval, and a summary
(found, new, duplicate, invalid, held) is written to the audit stream.

CSV sources must lie inside SCHEDULE_CSV_DIR (set it here and on the workers; unset, CSV sources are
refused). A feed's bearer token comes only from a variable named OFFBOARD_FEED_TOKEN_*. Workers check
each definition again at every tick and refuse (and audit) one that breaks these rules.

--source entra reads Entra ID users whose employeeLeaveDateTime lies between the last successful read
and now + --lookahead (Graph permissions User.Read.All and User-LifeCycleInfo.Read.All, with the
workers' credentials); each leaver is due at the leave date + --offset. Reconciliation (default on)
moves this schedule's pending jobs when a date moves and cancels them (reason source_withdrawn) when
it is cleared or moves beyond the lookahead; jobs from other sources are never touched. A failed or
partial read changes nothing and marks the schedule failing. A tick that would withdraw more than
GUARD_THRESHOLD leavers withdraws none and marks the schedule failing (mass_withdrawal): fix the
dates in Entra, or run that tick once with \`offboard schedule run NAME --allow-mass-withdrawal --as NAME\`.`,
  );

  schedule
    .command('add')
    .description('Add or replace a schedule (by name)')
    .argument('<name>', 'schedule name: letters, digits, . _ -')
    .requiredOption('--cron <pattern>', 'cron pattern, 5 fields (6 with seconds first), e.g. "0 2 * * *"')
    .option('--tz <zone>', 'IANA time zone of the cron and of dates without an offset', 'UTC')
    .requiredOption(
      '--source <path|url|entra>',
      'CSV file path inside SCHEDULE_CSV_DIR (as the worker sees it), http(s) JSON feed URL, or the keyword entra',
    )
    .option('--lookahead <duration>', 'entra: how far ahead leave dates are read, 1h..90d (default 14d)')
    .option('--offset <duration>', 'entra: job due at leave date + offset, -7d..7d (e.g. 2h, -1d; default 0)')
    .option('--reconcile', 'entra: follow moved and cleared leave dates (default)')
    .option('--no-reconcile', 'entra: only add leavers; never move or cancel pending jobs')
    .option(
      '--token-env <NAME>',
      'OFFBOARD_FEED_TOKEN_* variable holding the feed bearer token (read by the worker; no other variable)',
    )
    .option('--dry-run-jobs', 'the jobs record outcome dry_run instead of calling Graph')
    .option(
      '--device-policy <profile>',
      'device policy profile for this schedule’s leavers (DEVICE_POLICY_FILE; default: its default profile)',
    )
    .option('--tenant <name>', "TENANTS_FILE: the leavers' tenant (an entra source reads its directory)")
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the schedule as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  offboard schedule add nightly --cron "0 2 * * *" --tz Europe/Berlin --source /data/leavers.csv',
    )
    .action(
      action(async (name: string, opts: AddOptions) => {
        const who = actor(opts.as);
        const tenant = producerTenant(config(), opts.tenant);
        const def: ScheduleDef = {
          name,
          cron: opts.cron,
          tz: opts.tz,
          source: sourceOf(opts.source, opts.tokenEnv, opts),
          ...(opts.dryRunJobs ? { dryRun: true } : {}),
          ...(opts.devicePolicy !== undefined ? { devicePolicy: opts.devicePolicy } : {}),
          ...(tenant ? { tenant } : {}),
        };
        await withQueueContext(async (ctx) => {
          const view = displayView(await addSchedule(ctx, def, { actor: who }));
          if (opts.json) return printJson(view);
          process.stdout.write(
            safe`schedule ${view.name}: "${view.cron}" ${view.tz}, ${describe(view.source)}${view.dryRun ? ', dry run' : ''}${view.devicePolicy ? `, device policy ${view.devicePolicy}` : ''}${view.tenant ? `, tenant ${view.tenant}` : ''}; next run ${view.next ?? '?'}\n`,
          );
        });
      }),
    );

  schedule
    .command('list')
    .description('List schedules with their next run, health (failing and why) and last good tick')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  offboard schedule list --json')
    .action(
      action(async (opts: { json?: boolean }) => {
        await withQueueContext(async (ctx) => {
          const [all, statuses] = await Promise.all([
            listSchedules(ctx).then((list) => list.map(displayView)),
            readSweepStatuses(ctx.redis, ctx.prefix),
          ]);
          const byName = new Map(statuses.map((s) => [s.schedule, s]));
          if (opts.json) {
            return printJson(
              all.map((s) => {
                const st = byName.get(s.name);
                const failing = !!st && st.lastFailureMs > st.lastSuccessMs;
                return { ...s, ...(st ? { status: { ...st, failing } } : {}) };
              }),
            );
          }
          if (all.length === 0) process.stdout.write('no schedules\n');
          for (const s of all) {
            process.stdout.write(
              safe`${s.name}  "${s.cron}" ${s.tz}  ${describe(s.source)}${s.dryRun ? '  dry run' : ''}  next ${s.next ?? '?'}\n  ${health(byName.get(s.name))}\n`,
            );
          }
        });
      }),
    );

  schedule
    .command('remove')
    .description('Remove a schedule and its next pending tick')
    .argument('<name>', 'schedule name')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  offboard schedule remove nightly')
    .action(
      action(async (name: string, opts: { json?: boolean }) => {
        await withQueueContext(async (ctx) => {
          await removeSchedule(ctx, name);
          if (opts.json) printJson({ removed: name });
          else process.stdout.write(safe`schedule ${name} removed\n`);
        });
      }),
    );

  schedule
    .command('run')
    .description('Run one sweep of a schedule now, in this process (to try a source)')
    .argument('<name>', 'schedule name')
    .option(
      '--allow-mass-withdrawal',
      'entra: let this tick withdraw more than GUARD_THRESHOLD pending leavers at once (audited with --as)',
    )
    .option('--as <name>', 'who is acting (default: your OS user name); audited with --allow-mass-withdrawal')
    .option('--json', 'print the sweep summary as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  offboard schedule run nightly\n  offboard schedule run leavers --allow-mass-withdrawal --as alice',
    )
    .action(
      action(async (name: string, opts: { json?: boolean; allowMassWithdrawal?: boolean; as?: string }) => {
        const who = actor(opts.as);
        await withQueueContext(async (ctx) => {
          const def = await getSchedule(ctx, name);
          // An entra source reads Graph with this process's credentials, on the shared read budget.
          const tokenProvider =
            def.source.type === 'entra' ? createTokenProvider(ctx.config, { redis: ctx.redis }) : undefined;
          try {
            const s = await runSweep(ctx, def, {
              ...(opts.allowMassWithdrawal ? { allowMassWithdrawalBy: who } : {}),
              ...(tokenProvider
                ? {
                    entra: {
                      graph: graphContext(
                        ctx.config,
                        tokenProvider,
                        createReadPacer({ redis: ctx.redis, prefix: ctx.prefix, config: ctx.config }),
                      ),
                    },
                  }
                : {}),
            });
            if (opts.json) return printJson(s);
            process.stdout.write(safe`${summaryLine(s)}\n`);
          } finally {
            await tokenProvider?.close?.();
          }
        });
      }),
    );
}
