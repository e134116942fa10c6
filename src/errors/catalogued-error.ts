// The base of every error that names its catalogue entry (catalogue.ts). Callers still branch on
// the concrete classes; surfaces read `errorId` and ask the catalogue for status and exit code.
import { type CatalogueEntry, ERRORS, type ErrorId, type ExitCode } from './catalogue.js';

export abstract class CataloguedError extends Error {
  abstract readonly errorId: ErrorId;

  /** The CLI exit code, from the catalogue (kept as a property: scripts and tests read it). */
  get exitCode(): ExitCode {
    return ERRORS[this.errorId].cli.exit;
  }
}

/** The catalogue entry an error names, or undefined for an error outside the catalogue. */
export function catalogueEntry(err: unknown): CatalogueEntry | undefined {
  return err instanceof CataloguedError ? ERRORS[err.errorId] : undefined;
}
