// Wall-clock leave times across daylight-saving changes (src/values/timezone.ts, luxon): a time in the
// spring gap moves forward by the gap; a time in the autumn overlap takes its first occurrence (the
// earlier offset), whatever the date today.
import { DateTime, Settings } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { zonedToInstant } from '../../src/values/timezone.js';

const realNow = Settings.now;
afterEach(() => {
  Settings.now = realNow;
});

describe('daylight-saving gaps (spring forward): the time moves forward', () => {
  it.each([
    // Berlin, 2026-03-29: 02:00 CET → 03:00 CEST.
    ['2026-03-29T01:59', 'Europe/Berlin', '2026-03-29T00:59:00.000Z'],
    ['2026-03-29T02:00', 'Europe/Berlin', '2026-03-29T01:00:00.000Z'],
    ['2026-03-29T02:30', 'Europe/Berlin', '2026-03-29T01:30:00.000Z'], // = 03:30 CEST
    ['2026-03-29T03:00', 'Europe/Berlin', '2026-03-29T01:00:00.000Z'],
    // New York, 2026-03-08: 02:00 EST → 03:00 EDT.
    ['2026-03-08T01:59', 'America/New_York', '2026-03-08T06:59:00.000Z'],
    ['2026-03-08T02:30', 'America/New_York', '2026-03-08T07:30:00.000Z'], // = 03:30 EDT
    ['2026-03-08T03:00', 'America/New_York', '2026-03-08T07:00:00.000Z'],
    // Sydney (southern hemisphere), 2026-10-04: 02:00 AEST → 03:00 AEDT.
    ['2026-10-04T02:30', 'Australia/Sydney', '2026-10-03T16:30:00.000Z'], // = 03:30 AEDT
  ])('%s in %s is %s', (local, tz, iso) => {
    expect(zonedToInstant(local, tz)).toBe(iso);
  });
});

describe('daylight-saving overlaps (fall back): the first occurrence, the earlier offset', () => {
  it.each([
    // Berlin, 2026-10-25: 03:00 CEST → 02:00 CET; 02:00-02:59 happens twice.
    ['2026-10-25T01:59', 'Europe/Berlin', '2026-10-24T23:59:00.000Z'],
    ['2026-10-25T02:00', 'Europe/Berlin', '2026-10-25T00:00:00.000Z'], // CEST, not 01:00Z (CET)
    ['2026-10-25T02:30', 'Europe/Berlin', '2026-10-25T00:30:00.000Z'], // CEST, not 01:30Z (CET)
    ['2026-10-25T03:00', 'Europe/Berlin', '2026-10-25T02:00:00.000Z'],
    // New York, 2026-11-01: 02:00 EDT → 01:00 EST; 01:00-01:59 happens twice.
    ['2026-11-01T01:30', 'America/New_York', '2026-11-01T05:30:00.000Z'], // EDT, not 06:30Z (EST)
    ['2026-11-01T02:00', 'America/New_York', '2026-11-01T07:00:00.000Z'],
    // Sydney, 2026-04-05: 03:00 AEDT → 02:00 AEST; 02:00-02:59 happens twice.
    ['2026-04-05T02:30', 'Australia/Sydney', '2026-04-04T15:30:00.000Z'], // AEDT, not 16:30Z (AEST)
  ])('%s in %s is %s', (local, tz, iso) => {
    expect(zonedToInstant(local, tz)).toBe(iso);
  });

  it('does not depend on the offset in force today (luxon alone guesses from it)', () => {
    for (const today of ['2026-01-15T12:00:00Z', '2026-07-15T12:00:00Z']) {
      Settings.now = () => Date.parse(today);
      expect(zonedToInstant('2026-10-25T02:30', 'Europe/Berlin'), today).toBe('2026-10-25T00:30:00.000Z');
      expect(zonedToInstant('2026-11-01T01:30', 'America/New_York'), today).toBe('2026-11-01T05:30:00.000Z');
      expect(zonedToInstant('2026-03-29T02:30', 'Europe/Berlin'), today).toBe('2026-03-29T01:30:00.000Z');
    }
  });
});

describe('every minute of both transition days', () => {
  it.each([
    ['Europe/Berlin', '2026-03-29'],
    ['Europe/Berlin', '2026-10-25'],
    ['America/New_York', '2026-03-08'],
    ['America/New_York', '2026-11-01'],
  ])('%s on %s: times read back as given, in order; gap times one hour later', (tz, day) => {
    let previous = -Infinity;
    for (let minute = 0; minute < 24 * 60; minute++) {
      const hh = String(Math.floor(minute / 60)).padStart(2, '0');
      const mm = String(minute % 60).padStart(2, '0');
      const iso = zonedToInstant(`${day}T${hh}:${mm}`, tz);
      const instant = Date.parse(iso);
      const back = DateTime.fromMillis(instant, { zone: tz }).toFormat('yyyy-MM-dd HH:mm');
      if (back === `${day} ${hh}:${mm}`) {
        // Real wall times keep their order (a gap time moved forward may pass the next real ones).
        expect(instant, `${day}T${hh}:${mm}`).toBeGreaterThan(previous);
        previous = instant;
      } else {
        // Only a time inside the gap may read back differently: exactly one hour later.
        expect(back, `${day}T${hh}:${mm}`).toBe(
          DateTime.fromISO(`${day}T${hh}:${mm}`, { zone: 'UTC' })
            .plus({ hours: 1 })
            .toFormat('yyyy-MM-dd HH:mm'),
        );
      }
    }
  });
});
