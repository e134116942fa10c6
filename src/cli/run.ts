// Shared plumbing for CLI commands: exit codes, one-line errors, --json output, the acting user.
import { userInfo } from 'node:os';
import { Command } from 'commander';
import { type Config, type LoadOptions, loadConfig } from '../config/load.js';
import { uncatalogued } from '../errors/catalogue.js';
import { catalogueEntry } from '../errors/catalogued-error.js';
import { UsageError } from './errors.js';
import { escapeText } from './escape.js';
import { jsonError } from './json-error.js';

export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
  as?: string;
}

/** Exit codes: 0 ok, 1 failure, 2 usage or configuration error, as the error's catalogue entry says. */
export function exitCodeFor(err: unknown): number {
  return (catalogueEntry(err) ?? uncatalogued).cli.exit;
}

/** Whether the command that runs was given --json (its parsed options, not a raw argv match). */
function wantsJson(args: unknown[]): boolean {
  const cmd = args.at(-1);
  if (cmd instanceof Command) return cmd.optsWithGlobals().json === true;
  return false;
}

/** Wraps a command action: errors become one readable line (stack only with --verbose), or JSON with --json. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const verbose = process.argv.includes('--verbose');
      if (wantsJson(args)) process.stderr.write(jsonError(err));
      else {
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(`offboard: ${escapeText(message)}\n`);
        if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
      }
      process.exitCode = exitCodeFor(err);
      // Open handles (Redis, timers) must not keep a failed command alive.
      setTimeout(() => process.exit(process.exitCode ?? 1), 50).unref();
    }
  };
}

export function config(opts: LoadOptions = {}): Config {
  return loadConfig(process.env, opts);
}

/** Who acted: `--as NAME`, default the OS user name. Recorded in the audit stream. */
export function actor(as?: string): string {
  const name = as ?? safeUserName();
  if (!/^[A-Za-z0-9._@:-]{1,64}$/.test(name)) {
    throw new UsageError('--as must be 1-64 characters of A-Z a-z 0-9 . _ @ : -');
  }
  return name;
}

function safeUserName(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
