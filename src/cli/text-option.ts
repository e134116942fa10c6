// Free-text options (--reason, --note) go into records and the audit and are printed to people
// later: the same rule as the API's free-text fields (no control or invisible characters).
import { hasControlChars } from '../values/text.js';
import { UsageError } from './errors.js';

export function textOption(value: string | undefined, flag: string, max = 500): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > max || hasControlChars(value)) {
    throw new UsageError(`${flag} must be text of at most ${max} characters without control characters`);
  }
  return value;
}
