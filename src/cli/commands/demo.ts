import type { Command } from 'commander';
import { unexpected } from '../../demo/report.js';
import { runDemo } from '../../demo/run-demo.js';
import { UsageError } from '../errors.js';
import { action } from '../run.js';

export function configure(cmd: Command): void {
  cmd
    .option('--keep', 'stay up after the run so the dashboard can be explored')
    .option('--users <n>', 'how many leavers to enqueue (10-2000)', '30')
    .addHelpText(
      'after',
      '\nExamples:\n  npm run demo\n  offboard demo --keep\n  REDIS_URL=redis://127.0.0.1:6379 offboard demo --users 200',
    )
    .action(
      action(async (opts: { keep?: boolean; users: string }) => {
        const users = Number(opts.users);
        if (!Number.isInteger(users) || users < 10 || users > 2000)
          throw new UsageError('--users must be 10-2000');
        const { rows } = await runDemo({ keep: opts.keep, users });
        // A leaver without an outcome, or with another than expected (e.g. every inventory read refused
        // with 400 because the product asked Graph for a property v1.0 lacks), fails the demo.
        process.exitCode = unexpected(rows).length ? 1 : 0;
        // Child processes and sockets are closed; exit promptly even if a library keeps a timer.
        setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
      }),
    );
}
