// `--json` errors: one line on stderr in the API's error shape, so a script parses stdout and stderr
// alike. Kept apart from run.ts so cli.ts can use it for commander's usage errors without loading the
// configuration schema (`--help` and `--version` stay fast).
import { CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { CommandFailedError, UsageError } from './errors.js';

/** The `code` of a JSON error: what a script branches on (the exit code stays the coarse signal). */
export function errorCode(err: unknown): string {
  if (err instanceof ConfigError) return 'config';
  if (err instanceof UsageError) return 'usage';
  if (err instanceof CommandFailedError) return 'failed';
  if (err instanceof CommanderError) return err.exitCode === 0 ? 'ok' : 'usage';
  return 'error';
}

/**
 * An error as `--json` prints it on stderr: one line `{"error":{"code","message","details"?}}`, the
 * API's error shape, so a script reads stdout and stderr with one parser. Configuration problems are
 * listed in `details`.
 */
export function jsonError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const details = err instanceof ConfigError ? { issues: err.issues } : undefined;
  return `${JSON.stringify({ error: { code: errorCode(err), message: message.replace(/^error: /, ''), ...(details ? { details } : {}) } })}\n`;
}
