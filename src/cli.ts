#!/usr/bin/env node
// The `offboard` binary: one program, one module per subcommand under cli/commands/, loaded only
// for the command that runs (cli/program.ts holds the table).
import { CommanderError } from 'commander';
import { jsonError } from './cli/json-error.js';
import { buildProgram, configureFor } from './cli/program.js';
import { installProxyFromEnv } from './net/proxy.js';

async function main(): Promise<void> {
  // Before any command runs: every outbound HTTP call of the process honours HTTPS_PROXY/NO_PROXY.
  await installProxyFromEnv();
  // Before parsing, so commander's own usage errors can be JSON too (a raw match: parsing failed).
  const jsonErrors = process.argv.slice(2).includes('--json');
  const program = buildProgram({ jsonErrors });
  try {
    await configureFor(program, process.argv.slice(2));
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; everything else commander rejects is a usage error.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      if (jsonErrors && err.exitCode !== 0) process.stderr.write(jsonError(err));
      return;
    }
    throw err;
  }
}

await main();
