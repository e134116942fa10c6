// `offboard preflight`: the read-only go-live checks against the configured tenant (src/preflight).
// Exit 0 when every needed check passed, 1 otherwise, 2 for a usage or configuration error.
import type { Command } from 'commander';
import { createLogger } from '../../log.js';
import { formatReport } from '../../preflight/format.js';
import { runPreflight } from '../../preflight/run.js';
import { createRedis } from '../../redis/connection.js';
import { InvalidUserError, normaliseUser } from '../../values/user.js';
import { UsageError } from '../errors.js';
import { escapeText } from '../escape.js';
import { action, config, printJson } from '../run.js';

interface PreflightCliOptions {
  user?: string;
  json?: boolean;
}

export function configure(cmd: Command): void {
  cmd
    .option(
      '--user <upn|id>',
      'a known test user for the inventory read (default: one user read from the directory)',
    )
    .option('--json', 'print the checks as JSON')
    .addHelpText(
      'after',
      `
Sends only GETs to Graph (through the read pacer) and changes no queue. Exit 0 when every needed
check passed, 1 when one failed, 2 for a usage or configuration error.

Examples:
  offboard preflight
  offboard preflight --user test.leaver@contoso.com --json`,
    )
    .action(
      action(async (opts: PreflightCliOptions) => {
        let user: string | undefined;
        if (opts.user !== undefined) {
          try {
            user = normaliseUser(opts.user);
          } catch (err) {
            if (err instanceof InvalidUserError) throw new UsageError(`--user: ${err.message}`);
            throw err;
          }
        }
        const cfg = config({ needAuth: true });
        const logger = createLogger({ level: cfg.logLevel, destination: 2 });
        const redis = createRedis(cfg.redis, { name: 'offboard-preflight' });
        redis.on('error', () => {});
        try {
          const report = await runPreflight({
            config: cfg,
            redis,
            queueConnection: redis,
            prefix: cfg.redis.prefix,
            logger,
            ...(user ? { user } : {}),
          });
          if (opts.json) printJson(report);
          else process.stdout.write(`${formatReport(report).map(escapeText).join('\n')}\n`);
          process.exitCode = report.ok ? 0 : 1;
        } finally {
          redis.disconnect();
          logger.flush();
        }
      }),
    );
}
