#!/usr/bin/env node
// The `offboard` binary: one program, one module per subcommand under cli/commands/.
import { Command, CommanderError } from 'commander';
import { register as api } from './cli/commands/api.js';
import { register as batches } from './cli/commands/batches.js';
import { register as cancel } from './cli/commands/cancel.js';
import { register as demo } from './cli/commands/demo.js';
import { register as dlq } from './cli/commands/dlq.js';
import { register as enqueue } from './cli/commands/enqueue.js';
import { register as importCsv } from './cli/commands/import.js';
import { register as keys } from './cli/commands/keys.js';
import { register as login } from './cli/commands/login.js';
import { register as queue } from './cli/commands/queue.js';
import { register as schedule } from './cli/commands/schedule.js';
import { register as simulateGraph } from './cli/commands/simulate-graph.js';
import { register as status } from './cli/commands/status.js';
import { register as worker } from './cli/commands/worker.js';

export function buildProgram(): Command {
  const program = new Command('offboard')
    .description("Retire leavers' devices from Intune through a durable, throttle-aware queue")
    .option('--verbose', 'print stack traces on errors')
    .showHelpAfterError()
    .exitOverride();
  for (const register of [
    worker,
    api,
    enqueue,
    importCsv,
    status,
    dlq,
    schedule,
    batches,
    cancel,
    queue,
    login,
    keys,
    simulateGraph,
    demo,
  ]) {
    register(program);
  }
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
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
