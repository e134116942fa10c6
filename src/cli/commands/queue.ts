// `offboard queue pause|resume`: stop or restart all workers at once, recording who did it and why.
import type { Command } from 'commander';
import { getQueueStatus, pauseQueue, resumeQueue } from '../../control/queue-control.js';
import { resumeTenant } from '../../tenants/circuit.js';
import { tenantOf } from '../../tenants/registry.js';
import { CommandFailedError } from '../errors.js';
import { safe } from '../escape.js';
import { withQueueContext } from '../queue-context.js';
import { action, actor, printJson } from '../run.js';
import { textOption } from '../text-option.js';

export function configure(cmd: Command): void {
  const queue = cmd.addHelpText(
    'after',
    `
Examples:
  offboard queue pause --reason "Graph change freeze" --as alice
  offboard queue resume --as alice        (also closes an open circuit once the cause is fixed)`,
  );

  queue
    .command('pause')
    .description(
      'Pause the retire queue: no worker starts a new retire job until resumed (jobs in flight finish)',
    )
    .option('--reason <text>', 'why (shown in status and /readyz)', 'paused by operator')
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  offboard queue pause --reason "incident 4711"')
    .action(
      action(async (opts: { reason: string; as?: string; json?: boolean }) => {
        const who = actor(opts.as);
        const reason = textOption(opts.reason, '--reason') as string;
        await withQueueContext(async (ctx) => {
          await pauseQueue(ctx, who, reason);
          const status = await getQueueStatus(ctx);
          if (opts.json) printJson({ paused: status.paused, pause: status.pause });
          else process.stdout.write(safe`retire queue paused by ${who}: ${opts.reason.slice(0, 500)}\n`);
        });
      }),
    );

  queue
    .command('resume')
    .description('Resume the retire queue; closes an open circuit (fix its cause first)')
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option(
      '--tenant <name>',
      'resume one tenant only (TENANTS_FILE): its circuit closes, its parked jobs run',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  offboard queue resume --as alice\n  offboard queue resume --tenant contoso',
    )
    .action(
      action(async (opts: { as?: string; json?: boolean; tenant?: string }) => {
        const who = actor(opts.as);
        await withQueueContext(async (ctx) => {
          if (opts.tenant !== undefined) {
            if (!tenantOf(ctx.config, opts.tenant))
              throw new CommandFailedError(`no tenant named ${opts.tenant.slice(0, 100)} in TENANTS_FILE`);
            const t = await resumeTenant(ctx, opts.tenant, who);
            if (opts.json) printJson({ tenant: opts.tenant, ...t });
            else
              process.stdout.write(
                safe`tenant ${opts.tenant} resumed by ${who}${t.circuitWasOpen ? ' (its circuit was open and is now closed)' : ''}; ${String(t.promoted)} parked jobs promoted\n`,
              );
            return;
          }
          const r = await resumeQueue(ctx, who);
          if (opts.json) printJson({ paused: false, ...r });
          else
            process.stdout.write(
              safe`retire queue resumed by ${who}${r.circuitWasOpen ? ' (the circuit was open and is now closed)' : ''}\n`,
            );
        });
      }),
    );
}
