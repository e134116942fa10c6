// `--json` errors: one line on stderr in the API's error shape, so a script parses stdout and stderr
// alike. Kept apart from run.ts so cli.ts can use it for commander's usage errors without loading the
// configuration schema (`--help` and `--version` stay fast).
import { CommanderError } from 'commander';
import { catalogueEntry } from '../errors/catalogued-error.js';

/** The `code` of a JSON error (from the catalogue): what a script branches on; the exit code is coarser. */
export function errorCode(err: unknown): string {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 'ok' : 'usage';
  return catalogueEntry(err)?.cli.code ?? 'error';
}

/**
 * An error as `--json` prints it on stderr: one line `{"error":{"code","message","details"?}}`, the
 * API's error shape, so a script reads stdout and stderr with one parser. Configuration problems are
 * listed in `details`.
 */
export function jsonError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const detailsOf = catalogueEntry(err)?.cli.details;
  const details = detailsOf ? detailsOf(err as Error & Record<string, unknown>) : undefined;
  return `${JSON.stringify({ error: { code: errorCode(err), message: message.replace(/^error: /, ''), ...(details ? { details } : {}) } })}\n`;
}
