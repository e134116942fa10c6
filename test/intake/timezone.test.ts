import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../src/intake/validate.js';
import {
  InvalidTimeZoneError,
  isValidTimeZone,
  resolveEffectiveAt,
  zonedToInstant,
} from '../../src/values/timezone.js';

describe('zonedToInstant', () => {
  it.each([
    ['2026-12-01', 'Europe/Berlin', '2026-11-30T23:00:00.000Z'],
    ['2026-07-01T17:00', 'Europe/Berlin', '2026-07-01T15:00:00.000Z'],
    ['2026-07-01 17:00:30', 'America/New_York', '2026-07-01T21:00:30.000Z'],
    ['2026-07-01T09:00', 'Asia/Kolkata', '2026-07-01T03:30:00.000Z'],
    ['2026-07-01T09:00', 'Australia/Lord_Howe', '2026-06-30T22:30:00.000Z'],
    ['2026-07-01', 'UTC', '2026-07-01T00:00:00.000Z'],
    // Spring forward: 02:30 does not exist in Berlin; it is read as 03:30 CEST.
    ['2026-03-29T02:30', 'Europe/Berlin', '2026-03-29T01:30:00.000Z'],
    // Fall back: 02:30 happens twice; the first (CEST) occurrence wins.
    ['2026-10-25T02:30', 'Europe/Berlin', '2026-10-25T00:30:00.000Z'],
  ])('%s in %s is %s', (local, tz, iso) => {
    expect(zonedToInstant(local, tz)).toBe(iso);
  });

  it('refuses impossible dates and unknown zones', () => {
    expect(() => zonedToInstant('2026-02-30', 'UTC')).toThrow(InvalidRequestError);
    expect(() => zonedToInstant('2026-01-01T24:00', 'UTC')).toThrow(InvalidRequestError);
    expect(() => zonedToInstant('01.12.2026', 'UTC')).toThrow(InvalidRequestError);
    expect(() => zonedToInstant('2026-01-01', 'Mars/Olympus')).toThrow(InvalidTimeZoneError);
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Europe/Nowhere')).toBe(false);
  });
});

describe('resolveEffectiveAt', () => {
  it('keeps values with an offset, converts zone-less ones with a zone, refuses them without', () => {
    expect(resolveEffectiveAt('2026-12-01T17:00:00+01:00', 'Asia/Tokyo')).toBe('2026-12-01T17:00:00+01:00');
    expect(resolveEffectiveAt('2026-12-01T17:00:00Z')).toBe('2026-12-01T17:00:00Z');
    expect(resolveEffectiveAt('2026-12-01', 'Asia/Tokyo')).toBe('2026-11-30T15:00:00.000Z');
    expect(resolveEffectiveAt('  ')).toBeUndefined();
    expect(() => resolveEffectiveAt('2026-12-01')).toThrow(/no UTC offset.*--tz/);
    // Anything else is left for validation to refuse with its own message.
    expect(resolveEffectiveAt('next tuesday', 'UTC')).toBe('next tuesday');
  });
});
