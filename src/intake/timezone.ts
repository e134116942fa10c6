// HR systems often send a leave date ("2026-12-01") or a wall-clock time without an offset; BullMQ
// needs an instant. With an IANA zone (`--tz Europe/Berlin`) we turn the wall-clock time into
// that instant here, before validation, so a date without a zone is never guessed.
import { InvalidRequestError } from './validate.js';

export class InvalidTimeZoneError extends Error {
  override readonly name = 'InvalidTimeZoneError';
  constructor(readonly tz: string) {
    super(`unknown time zone "${tz.slice(0, 64)}" (use an IANA name such as Europe/Berlin or UTC)`);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new InvalidTimeZoneError(tz);
    }
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 64) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Throws InvalidTimeZoneError unless `tz` is a zone this Node.js knows. */
export function assertTimeZone(tz: string): string {
  if (!isValidTimeZone(tz)) throw new InvalidTimeZoneError(String(tz));
  return tz;
}

/** Offset of `tz` from UTC at `instantMs`, in ms (positive east of Greenwich). */
function offsetAt(tz: string, instantMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(instantMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return wall - Math.floor(instantMs / 1000) * 1000;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?$/;
const HAS_OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

/**
 * `2026-12-01` (start of that day) or `2026-12-01T17:00[:00]` read as wall-clock time in `tz`
 * → ISO instant in UTC. In a DST gap the later offset wins (02:30 on a spring-forward day is
 * 03:30); an ambiguous autumn time resolves to its first occurrence.
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
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0)) as number[];
  const ms = Number((m[7] ?? '0').padEnd(3, '0'));
  const wall = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s, ms);
  const check = new Date(wall);
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== (mo as number) - 1 ||
    check.getUTCDate() !== d ||
    (h as number) > 23 ||
    (mi as number) > 59 ||
    (s as number) > 59
  ) {
    throw new InvalidRequestError(`effectiveAt "${local.slice(0, 40)}" is not a real date`, 'effectiveAt');
  }
  // Offsets a day either side bracket any DST change; a wall time is valid under an offset when
  // the zone really has that offset at the resulting instant.
  const before = offsetAt(tz, wall - 86_400_000);
  const after = offsetAt(tz, wall + 86_400_000);
  const valid = [before, after].filter((o) => offsetAt(tz, wall - o) === o);
  // Ambiguous (both valid): the larger offset gives the earlier instant. Gap (none valid): the
  // offset from before the change moves the time forward past the gap.
  const instant = valid.length > 0 ? wall - Math.max(...valid) : wall - before;
  return new Date(instant).toISOString();
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
