// The table of `offboard` subcommands: name, one-line description, and the module that configures it.
// `offboard --help` and `--version` need only this table. A command's module, and everything it
// imports (BullMQ, Fastify, MSAL, the configuration schema…), is loaded only when that command runs
// or its own help is asked for.
import { Command } from 'commander';
import { VERSION } from '../version.js';

/** Adds a command's arguments, options, subcommands, help text and action to its (named) Command. */
export type Configure = (cmd: Command) => void;

export interface CommandEntry {
  name: string;
  /** Imperative, capitalised, no final full stop: "Serve the HTTP API…". */
  description: string;
  load: () => Promise<Configure>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'worker',
    description:
      'Process retire jobs until SIGTERM: shared pacing, retries, dead letters, circuit on systemic failures',
    load: async () => (await import('./commands/worker.js')).configure,
  },
  {
    name: 'api',
    description:
      'Serve the HTTP API, dashboard (/dashboard), status page (/), docs (/docs) and /metrics on API_PORT',
    load: async () => (await import('./commands/api.js')).configure,
  },
  {
    name: 'enqueue',
    description:
      'Queue leavers for device retirement (one pending job per user; several users go through the mass-change guard)',
    load: async () => (await import('./commands/enqueue.js')).configure,
  },
  {
    name: 'import',
    description: 'Import leavers from a CSV file (header: user[,effectiveAt][,reason][,correlationId])',
    load: async () => (await import('./commands/import.js')).configure,
  },
  {
    name: 'status',
    description: 'Show queue counts and pause, circuit and throttle state; or one job with its history',
    load: async () => (await import('./commands/status.js')).configure,
  },
  {
    name: 'dlq',
    description: 'Inspect and act on dead letters (jobs that need a human)',
    load: async () => (await import('./commands/dlq.js')).configure,
  },
  {
    name: 'schedule',
    description:
      'Manage scheduled sweeps: read leavers from a CSV file or JSON feed on a cron, in a time zone',
    load: async () => (await import('./commands/schedule.js')).configure,
  },
  {
    name: 'batches',
    description: 'Review bulk submissions held by the mass-change guard (more than GUARD_THRESHOLD users)',
    load: async () => (await import('./commands/batches.js')).configure,
  },
  {
    name: 'cancel',
    description: "Cancel a leaver's pending (waiting or future-dated) job before a worker takes it",
    load: async () => (await import('./commands/cancel.js')).configure,
  },
  {
    name: 'reschedule',
    description: "Move a future-dated leaver's job to a new leave moment",
    load: async () => (await import('./commands/cancel.js')).configureReschedule,
  },
  {
    name: 'queue',
    description: 'Pause or resume the retire queue for every worker (audited)',
    load: async () => (await import('./commands/queue.js')).configure,
  },
  {
    name: 'audit',
    description: 'Export the audit trail as JSON lines, to keep it beyond AUDIT_MAX_LEN',
    load: async () => (await import('./commands/audit.js')).configure,
  },
  {
    name: 'evidence',
    description:
      'Export proof of retirement (one row per device, CSV or JSON), list unverified leavers, re-verify a job',
    load: async () => (await import('./commands/evidence.js')).configure,
  },
  {
    name: 'policy',
    description:
      'Lint a device policy file (retire, wipe, delete, Autopilot per device), or explain what it would do to a leaver',
    load: async () => (await import('./commands/policy.js')).configure,
  },
  {
    name: 'login',
    description:
      'Sign in with a device code (AUTH_MODE=delegated) and store the encrypted token cache in Redis for the workers',
    load: async () => (await import('./commands/login.js')).configure,
  },
  {
    name: 'keys',
    description: 'Manage API keys (only their SHA-256 hashes are configured)',
    load: async () => (await import('./commands/keys.js')).configure,
  },
  {
    name: 'preflight',
    description:
      'Check read-only that this configuration can go live: token, permissions, each Graph read, Redis, queues, circuit',
    load: async () => (await import('./commands/preflight.js')).configure,
  },
  {
    name: 'simulate-graph',
    description: 'Serve a fake Microsoft Graph and Entra token endpoint on loopback (until Ctrl-C)',
    load: async () => (await import('./commands/simulate-graph.js')).configure,
  },
  {
    name: 'demo',
    description:
      'Run the whole product locally: embedded Redis, Graph simulator, two workers, API; retire a mixed set of leavers',
    load: async () => (await import('./commands/demo.js')).configure,
  },
];

/** The program with every command named and described; none configured yet (see `configureFor`). */
export function buildProgram(opts: { jsonErrors?: boolean } = {}): Command {
  const program = new Command('offboard')
    .description("Retire leavers' devices from Intune through a durable, throttle-aware queue")
    .version(VERSION, '-V, --version', 'print the version')
    .option('--verbose', 'print stack traces on errors')
    .showHelpAfterError()
    .exitOverride();
  // With --json, commander's own errors (unknown option, missing argument) are not printed as text:
  // the caller prints them as JSON (cli.ts). Set before the commands exist: they inherit it.
  if (opts.jsonErrors) program.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  for (const entry of COMMANDS) program.command(entry.name).description(entry.description);
  return program;
}

/**
 * The subcommand a command line names: the first word that is not an option
 * (`offboard --verbose worker …`), or the one after `help` (`offboard help enqueue`). The program's
 * own options take no values, so no word is mistaken for an option's value.
 */
export function commandNamed(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** Loads and configures the command that `args` (argv without node and script) names, if any. */
export async function configureFor(program: Command, args: readonly string[]): Promise<void> {
  const name = commandNamed(args);
  const entry = COMMANDS.find((e) => e.name === name);
  const cmd = program.commands.find((c) => c.name() === name);
  if (!entry || !cmd) return; // --help, --version, no command or an unknown one: commander answers.
  (await entry.load())(cmd);
}
