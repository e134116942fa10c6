// HR systems often send a leave date ("2026-12-01") or a wall-clock time without an offset; BullMQ
// needs an instant. With an IANA zone (`--tz Europe/Berlin`) we turn the wall-clock time into
// that instant here, before validation, so a date without a zone is never guessed.
import { DateTime, IANAZone } from 'luxon';
import { InvalidRequestError } from './invalid-request.js';

export class InvalidTimeZoneError extends Error {
  override readonly name = 'InvalidTimeZoneError';
  constructor(readonly tz: string) {
    super(`unknown time zone "${tz.slice(0, 64)}" (use an IANA name such as Europe/Berlin or UTC)`);
  }
}

export function isValidTimeZone(tz: string): boolean {
  return typeof tz === 'string' && tz.length > 0 && tz.length <= 64 && IANAZone.isValidZone(tz);
}

/** Throws InvalidTimeZoneError unless `tz` is a zone this Node.js knows. */
export function assertTimeZone(tz: string): string {
  if (!isValidTimeZone(tz)) throw new InvalidTimeZoneError(String(tz));
  return tz;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?$/;
const HAS_OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

/**
 * `2026-12-01` (start of that day) or `2026-12-01T17:00[:00]` read as wall-clock time in `tz`
 * → ISO instant in UTC, by luxon. Daylight-saving changes, the same in every zone:
 * - gap (spring forward): a time that does not exist moves forward by the gap, as a wall clock
 *   would — 02:30 in Berlin on 2026-03-29 is 03:30 CEST;
 * - overlap (fall back): a time that happens twice takes the earlier offset, i.e. its first
 *   occurrence — 02:30 in Berlin on 2026-10-25 is 02:30 CEST (00:30Z), not CET. A leaver is then
 *   never retired later than the time they were given. (luxon alone would pick by today's offset.)
 */
export function zonedToInstant(local: string, tz: string): string {
  assertTimeZone(tz);
  const m = LOCAL.exec(local);
  if (!m) {
    throw new InvalidRequestError(
      'effectiveAt must be a date (2026-12-01) or date-time (2026-12-01T17:00) when a time zone is given',
      'effectiveAt',
    );
  }
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) =>
    Number(v ?? 0),
  );
  const millisecond = Number((m[7] ?? '0').padEnd(3, '0'));
  const wall = DateTime.fromObject(
    { year, month, day, hour, minute, second, millisecond },
    { zone: IANAZone.create(tz) },
  );
  // luxon reads hour 24 as the next midnight; a leave date written so is a typo, not a moment.
  if (!wall.isValid || (hour ?? 0) > 23) {
    throw new InvalidRequestError(`effectiveAt "${local.slice(0, 40)}" is not a real date`, 'effectiveAt');
  }
  const first = Math.min(...wall.getPossibleOffsets().map((d) => d.toMillis()));
  return new Date(first).toISOString();
}

/**
 * Leaves values with an offset (and non-strings) to validateRequest; converts zone-less values
 * when a zone is known; refuses zone-less values otherwise with a hint that names the fix.
 */
export function resolveEffectiveAt(value: unknown, tz?: string): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === '') return undefined;
  if (HAS_OFFSET.test(text)) return text;
  if (!LOCAL.test(text)) return text;
  if (!tz) {
    throw new InvalidRequestError(
      `effectiveAt "${text.slice(0, 40)}" has no UTC offset: add one (2026-12-01T17:00:00+01:00) or give a time zone (--tz)`,
      'effectiveAt',
    );
  }
  return zonedToInstant(text, tz);
}
