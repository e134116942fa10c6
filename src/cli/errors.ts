import { CataloguedError } from '../errors/catalogued-error.js';
/** Wrong arguments or options: exit code 2, like a configuration error. */
export class UsageError extends CataloguedError {
  override readonly name = 'UsageError';
  readonly errorId = 'OFB_ERR_USAGE';
}

/** The command ran but what it was asked to do failed (exit code 1) — e.g. a dead letter not found. */
export class CommandFailedError extends CataloguedError {
  override readonly name = 'CommandFailedError';
  readonly errorId = 'OFB_ERR_COMMAND_FAILED';
}
