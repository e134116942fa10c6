import type { Command } from 'commander';
import { action } from '../run.js';

// Placeholder until the owning change lands; registered so `--help` lists every command.
export function register(program: Command): void {
  program
    .command('simulate-graph')
    .description('(not implemented yet)')
    .action(
      action(async () => {
        throw new Error('simulate-graph is not implemented yet');
      }),
    );
}
