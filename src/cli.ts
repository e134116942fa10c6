#!/usr/bin/env node
// The `offboard` binary: one program, one module per subcommand under cli/commands/, loaded only
// for the command that runs (cli/program.ts holds the table).
import { CommanderError } from 'commander';
import { buildProgram, configureFor } from './cli/program.js';
import { installProxyFromEnv } from './net/proxy.js';

async function main(): Promise<void> {
  // Before any command runs: every outbound HTTP call of the process honours HTTPS_PROXY/NO_PROXY.
  await installProxyFromEnv();
  const program = buildProgram();
  try {
    await configureFor(program, process.argv.slice(2));
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; everything else commander rejects is a usage error.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    throw err;
  }
}

await main();
