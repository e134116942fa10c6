// `offboard login`: device-code sign-in for AUTH_MODE=delegated; workers then act as this operator.
import type { Command } from 'commander';
import { login } from '../../entra/delegated.js';
import { createLogger } from '../../log.js';
import { createRedis } from '../../redis/connection.js';
import { UsageError } from '../errors.js';
import { action, config, printJson } from '../run.js';

interface LoginCliOptions {
  json?: boolean;
  timeout?: string;
}

export function configure(cmd: Command): void {
  cmd
    .option('--json', 'print the result as JSON')
    .option('--timeout <seconds>', 'give up waiting for the sign-in after this many seconds')
    .action(
      action(async (opts: LoginCliOptions) => {
        // Mode first: in app mode the missing-credential complaints would hide the real mistake.
        if (config().auth.mode !== 'delegated') {
          throw new UsageError('login is only for AUTH_MODE=delegated; app mode needs no sign-in');
        }
        const timeoutSeconds = parseTimeout(opts.timeout);
        const cfg = config({ needAuth: true });
        const logger = createLogger({ level: cfg.logLevel, destination: 2 });
        const redis = createRedis(cfg.redis, { name: 'offboard-login' });
        // Failures surface through the command itself; an unhandled 'error' event would only add noise.
        redis.on('error', () => {});
        try {
          const username = await login(
            cfg,
            { redis, logger },
            { onCode: (message) => process.stderr.write(`${message}\n`), timeoutSeconds },
          );
          if (opts.json) {
            printJson({ signedIn: true, username, tenantId: cfg.auth.tenantId, clientId: cfg.auth.clientId });
          } else {
            process.stdout.write(`signed in as ${username}\n`);
          }
        } finally {
          redis.disconnect();
          logger.flush();
        }
      }),
    );
}

function parseTimeout(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 86_400) {
    throw new UsageError('--timeout must be a whole number of seconds from 1 to 86400');
  }
  return Number(raw);
}
