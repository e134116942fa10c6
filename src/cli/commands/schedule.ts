// `offboard schedule add|list|remove|run`: scheduled sweeps of a CSV file or an HTTP JSON feed.
// The schedules live in Redis as BullMQ job schedulers; `offboard worker` processes the ticks.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ScheduleDef, SweepSource } from '../../schedule/definition.js';
import { addSchedule, getSchedule, listSchedules, removeSchedule } from '../../schedule/schedules.js';
import { runSweep } from '../../schedule/sweep.js';
import { UsageError } from '../errors.js';
import { safe } from '../escape.js';
import { withQueueContext } from '../queue-context.js';
import { action, actor, printJson } from '../run.js';

function sourceOf(value: string, tokenEnv?: string): SweepSource {
  if (/^https?:\/\//i.test(value)) return { type: 'http', url: value, ...(tokenEnv ? { tokenEnv } : {}) };
  if (tokenEnv) throw new UsageError('--token-env applies to an http(s) feed source only');
  // Stored absolute: the worker resolving it runs elsewhere, with another working directory.
  return { type: 'csv', path: resolve(value) };
}

function describe(source: SweepSource): string {
  return source.type === 'csv'
    ? `csv ${source.path}`
    : `http ${source.url}${source.tokenEnv ? ` (token from $${source.tokenEnv})` : ''}`;
}

interface AddOptions {
  cron: string;
  tz: string;
  source: string;
  tokenEnv?: string;
  dryRunJobs?: boolean;
  as?: string;
  json?: boolean;
}

export function configure(cmd: Command): void {
  const schedule = cmd.addHelpText(
    'after',
    `
Examples:
  offboard schedule add nightly --cron "0 2 * * *" --tz Europe/Berlin --source /data/leavers.csv
  offboard schedule add hr-feed --cron "*/15 * * * *" --source https://hr.example.com/leavers --token-env OFFBOARD_FEED_TOKEN_HR
  offboard schedule list --json
  offboard schedule remove nightly

A tick runs in one of the running \`offboard worker\` processes (exactly once per tick); leavers are
deduplicated per user, more than GUARD_THRESHOLD are held for approval, and a summary
(found, new, duplicate, invalid, held) is written to the audit stream.

CSV sources must lie inside SCHEDULE_CSV_DIR (set it here and on the workers; unset, CSV sources are
refused). A feed's bearer token comes only from a variable named OFFBOARD_FEED_TOKEN_*. Workers check
each definition again at every tick and refuse (and audit) one that breaks these rules.`,
  );

  schedule
    .command('add')
    .description('Add or replace a schedule (by name)')
    .argument('<name>', 'schedule name: letters, digits, . _ -')
    .requiredOption('--cron <pattern>', 'cron pattern, 5 fields (6 with seconds first), e.g. "0 2 * * *"')
    .option('--tz <zone>', 'IANA time zone of the cron and of dates without an offset', 'UTC')
    .requiredOption(
      '--source <path|url>',
      'CSV file path inside SCHEDULE_CSV_DIR (as the worker sees it) or http(s) JSON feed URL',
    )
    .option(
      '--token-env <NAME>',
      'OFFBOARD_FEED_TOKEN_* variable holding the feed bearer token (read by the worker; no other variable)',
    )
    .option('--dry-run-jobs', 'the jobs record outcome dry_run instead of calling Graph')
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the schedule as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  offboard schedule add nightly --cron "0 2 * * *" --tz Europe/Berlin --source /data/leavers.csv',
    )
    .action(
      action(async (name: string, opts: AddOptions) => {
        const who = actor(opts.as);
        const def: ScheduleDef = {
          name,
          cron: opts.cron,
          tz: opts.tz,
          source: sourceOf(opts.source, opts.tokenEnv),
          ...(opts.dryRunJobs ? { dryRun: true } : {}),
        };
        await withQueueContext(async (ctx) => {
          const view = await addSchedule(ctx, def, { actor: who });
          if (opts.json) return printJson(view);
          process.stdout.write(
            safe`schedule ${view.name}: "${view.cron}" ${view.tz}, ${describe(view.source)}${view.dryRun ? ', dry run' : ''}; next run ${view.next ?? '?'}\n`,
          );
        });
      }),
    );

  schedule
    .command('list')
    .description('List schedules with their next run')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  offboard schedule list --json')
    .action(
      action(async (opts: { json?: boolean }) => {
        await withQueueContext(async (ctx) => {
          const all = await listSchedules(ctx);
          if (opts.json) return printJson(all);
          if (all.length === 0) process.stdout.write('no schedules\n');
          for (const s of all) {
            process.stdout.write(
              safe`${s.name}  "${s.cron}" ${s.tz}  ${describe(s.source)}${s.dryRun ? '  dry run' : ''}  next ${s.next ?? '?'}\n`,
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
    .option('--json', 'print the sweep summary as JSON')
    .addHelpText('after', '\nExample:\n  offboard schedule run nightly')
    .action(
      action(async (name: string, opts: { json?: boolean }) => {
        await withQueueContext(async (ctx) => {
          const def = await getSchedule(ctx, name);
          const s = await runSweep(ctx, def);
          if (opts.json) return printJson(s);
          process.stdout.write(
            safe`sweep ${s.schedule}: found ${s.found}, new ${s.new}, duplicate ${s.duplicate}, invalid ${s.invalid}${s.held ? `, held as batch ${s.held}` : ''}\n`,
          );
        });
      }),
    );
}
