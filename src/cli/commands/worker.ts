import type { Command } from 'commander';
import { action } from '../run.js';

// Placeholder until the owning change lands; registered so `--help` lists every command.
export function register(program: Command): void {
  program
    .command('worker')
    .description('(not implemented yet)')
    .action(
      action(async () => {
        throw new Error('worker is not implemented yet');
      }),
    );
}
