import type { Command } from 'commander';
import { newApiKey } from '../../api/auth/keys.js';
import { ROLES, type Role } from '../../config/api-keys.js';
import { UsageError } from '../errors.js';
import { action, printJson } from '../run.js';

// `offboard keys new`: a fresh API key, printed once. Only its SHA-256 goes into the configuration.
export function configure(cmd: Command): void {
  const keys = cmd;
  keys
    .command('new')
    .description('Create a random API key; prints it once with the API_KEYS line to add')
    .requiredOption(
      '--name <name>',
      'who uses the key (recorded as requested-by / actor): 1-64 of A-Z a-z 0-9 . _ -',
    )
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--json', 'print {name, role, key, sha256, configLine}')
    .action(
      action(async (opts: { name: string; role: string; json?: boolean }) => {
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(opts.name)) {
          throw new UsageError('--name must be 1-64 characters of A-Z a-z 0-9 . _ -');
        }
        if (!(ROLES as readonly string[]).includes(opts.role)) {
          throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        }
        const role = opts.role as Role;
        const { key, entry, configLine: line } = newApiKey(opts.name, role);
        if (opts.json) {
          printJson({ name: opts.name, role, key, sha256: entry.sha256, configLine: line });
          return;
        }
        process.stdout.write(
          [
            `API key for "${opts.name}" (role ${role}). It is shown only this once; store it now:`,
            '',
            `  ${key}`,
            '',
            'Add this entry to API_KEYS (comma-separated) or to the API_KEYS_FILE (one per line):',
            '',
            `  ${line}`,
            '',
          ].join('\n'),
        );
      }),
    );
}
