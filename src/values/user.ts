// A user is an Entra object id (GUID) or a userPrincipalName. Anything else is refused at the door.

export class InvalidUserError extends Error {
  override readonly name = 'InvalidUserError';
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// UPN: local part of RFC 5322 atext plus dots (and a leading $ which Graph supports via /users('…')),
// domain of DNS labels. No whitespace, no control characters, no slashes or percent signs.
const UPN_LOCAL = /^[A-Za-z0-9!#$&'*+=?^_`{|}~-]+(\.[A-Za-z0-9!#$&'*+=?^_`{|}~-]+)*$/;
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** Returns the normalised user (trimmed, lower-case) or throws InvalidUserError with the reason. */
export function normaliseUser(input: unknown): string {
  if (typeof input !== 'string') throw new InvalidUserError('user must be a string');
  const value = input.trim();
  if (value.length === 0) throw new InvalidUserError('user is empty');
  if (value.length > 113) throw new InvalidUserError('user is longer than 113 characters (UPN limit)');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/.test(value)) {
    throw new InvalidUserError('user contains control or invisible characters');
  }
  const lower = value.toLowerCase();
  if (GUID.test(lower)) return lower;
  const at = lower.lastIndexOf('@');
  if (at <= 0)
    throw new InvalidUserError('user must be an object id (GUID) or a userPrincipalName (name@domain)');
  const local = lower.slice(0, at);
  const domain = lower.slice(at + 1);
  if (local.length > 64) throw new InvalidUserError('user name part is longer than 64 characters');
  if (!UPN_LOCAL.test(local))
    throw new InvalidUserError('user name part has characters a UPN cannot contain');
  if (!DOMAIN.test(domain)) throw new InvalidUserError('user domain is not a valid domain name');
  return lower;
}

export function isValidUser(input: unknown): boolean {
  try {
    normaliseUser(input);
    return true;
  } catch {
    return false;
  }
}
