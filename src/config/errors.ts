import { CataloguedError } from '../errors/catalogued-error.js';
/** Every invalid or missing setting, collected so the operator sees them all at once. Exit code 2. */
export class ConfigError extends CataloguedError {
  override readonly name = 'ConfigError';
  readonly errorId = 'OFB_ERR_CONFIG';
  constructor(readonly issues: string[]) {
    super(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n  - ${issues.join('\n  - ')}`,
    );
  }
}
