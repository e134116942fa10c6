// The error every value check of a request throws (field named), so any surface answers it the
// same way (400, exit 2). It lives here, below intake/, because the value checks that throw it
// (time zones, effective moments) are used by folders that must not reach up into intake/.
import { CataloguedError } from '../errors/catalogued-error.js';

export class InvalidRequestError extends CataloguedError {
  override readonly name = 'InvalidRequestError';
  readonly errorId = 'OFB_ERR_INVALID_REQUEST';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}
