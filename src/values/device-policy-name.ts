// A device policy profile name as a request gives it (`devicePolicy`): only its shape is checked
// here; whether the profile exists and the caller may name it is the front door's business
// (src/front-door/device-policy.ts), which knows the policy file and the caller.
import { InvalidRequestError } from './invalid-request.js';

/** Profile names are short identifiers (API_KEYS lists them after a `:`, separated by `|`). */
export const DEVICE_POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The name as given, or InvalidRequestError (field `devicePolicy`). */
export function checkDevicePolicyName(value: unknown): string {
  if (typeof value !== 'string' || !DEVICE_POLICY_NAME.test(value)) {
    throw new InvalidRequestError(
      'devicePolicy must be a profile name: 1-64 of A-Z a-z 0-9 _ - (starting with a letter or digit)',
      'devicePolicy',
    );
  }
  return value;
}
