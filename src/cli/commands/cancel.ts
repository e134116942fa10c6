// `offboard cancel <user>` and `offboard reschedule <user> <when>`: change a pending leaver
// (typically future-dated) before a worker takes the job. Both are audited with the actor.
import type { Command } from 'commander';
import { cancelJob, cancelUser } from '../../intake/cancel.js';
import { rescheduleJob, rescheduleUser } from '../../intake/reschedule.js';
import { InvalidRequestError } from '../../intake/validate.js';
import type { QueueContext } from '../../queue/context.js';
import { InvalidTimeZoneError, isValidTimeZone } from '../../values/timezone.js';
import { UsageError } from '../errors.js';
import { safe } from '../escape.js';
import { withQueueContext } from '../queue-context.js';
import { action, actor, config, printJson } from '../run.js';
import { producerTenant } from '../tenant-option.js';

async function withContext<T>(fn: (ctx: QueueContext) => Promise<T>): Promise<T> {
  try {
    return await withQueueContext(fn);
  } catch (err) {
    // A malformed user or date is an argument problem: exit 2.
    if (err instanceof InvalidRequestError || err instanceof InvalidTimeZoneError)
      throw new UsageError(err.message);
    throw err;
  }
}

export function configure(cmd: Command): void {
  cmd
    .argument('[user]', 'Entra object id (GUID) or userPrincipalName')
    .option('--job <id>', 'cancel by job id instead of by user')
    .option(
      '--tenant <name>',
      "TENANTS_FILE: the leaver's tenant (required by user when several are configured)",
    )
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  offboard cancel alice@contoso.com --as bob
  offboard cancel --job 6a1c7c9e-2f1d-4a55-9d0e-1f0b7a3c2d11 --json

Exit codes: 0 cancelled, 1 no pending job or already running/finished, 2 usage.`,
    )
    .action(
      action(
        async (
          user: string | undefined,
          opts: { job?: string; as?: string; json?: boolean; tenant?: string },
        ) => {
          const who = actor(opts.as);
          if (!!user === !!opts.job) throw new UsageError('give a user or --job <id> (one of them)');
          // By user: the pending job is found per tenant (the same UPN in two tenants is two leavers).
          const tenant = opts.job ? undefined : producerTenant(config(), opts.tenant);
          await withContext(async (ctx) => {
            const r = opts.job
              ? await cancelJob(ctx, opts.job, who)
              : await cancelUser(ctx, user as string, who, tenant);
            if (opts.json) return printJson(r);
            process.stdout.write(safe`cancelled job ${r.id} for ${r.user} (was ${r.previousState})\n`);
          });
        },
      ),
    );
}

export function configureReschedule(cmd: Command): void {
  cmd
    .argument('[user]', 'Entra object id (GUID) or userPrincipalName')
    .requiredOption(
      '--effective-at <when>',
      'new moment: ISO 8601 with offset, or a date / local time with --tz',
    )
    .option('--tz <zone>', 'IANA time zone for --effective-at without an offset')
    .option('--job <id>', 'by job id instead of by user')
    .option(
      '--tenant <name>',
      "TENANTS_FILE: the leaver's tenant (required by user when several are configured)",
    )
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  offboard reschedule alice@contoso.com --effective-at 2026-12-15 --tz Europe/Berlin
  offboard reschedule --job 6a1c7c9e-… --effective-at 2026-12-15T17:00:00+01:00 --json

A moment now or in the past runs the job at once.`,
    )
    .action(
      action(
        async (
          user: string | undefined,
          opts: {
            effectiveAt: string;
            tz?: string;
            job?: string;
            as?: string;
            json?: boolean;
            tenant?: string;
          },
        ) => {
          const who = actor(opts.as);
          if (!!user === !!opts.job) throw new UsageError('give a user or --job <id> (one of them)');
          if (opts.tz && !isValidTimeZone(opts.tz))
            throw new UsageError(new InvalidTimeZoneError(opts.tz).message);
          const tenant = opts.job ? undefined : producerTenant(config(), opts.tenant);
          await withContext(async (ctx) => {
            const tz = opts.tz ? { tz: opts.tz } : {};
            const r = opts.job
              ? await rescheduleJob(ctx, opts.job, opts.effectiveAt, who, tz)
              : await rescheduleUser(ctx, user as string, opts.effectiveAt, who, {
                  ...tz,
                  ...(tenant ? { tenant } : {}),
                });
            if (opts.json) return printJson(r);
            process.stdout.write(
              safe`job ${r.id} for ${r.user} now ${r.state === 'delayed' ? `runs at ${r.effectiveAt}` : 'runs now'}\n`,
            );
          });
        },
      ),
    );
}
