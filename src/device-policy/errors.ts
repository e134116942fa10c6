// A device policy file that cannot be used: every problem of it at once, like a configuration error
// (exit 2; `--json` code `config` with the issues). `offboard policy check` and explain throw it.
import { CataloguedError } from '../errors/catalogued-error.js';

export class DevicePolicyError extends CataloguedError {
  override readonly name = 'DevicePolicyError';
  readonly errorId = 'OFB_ERR_CONFIG';
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(
      `device policy ${source} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n  - ${issues.join('\n  - ')}`,
    );
  }
}
