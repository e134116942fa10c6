// The one rule deciding when a Lifecycle Workflows run is resumed and with which status.
import { describe, expect, it } from 'vitest';
import { resumeBody } from '../../src/notify/deliver-resume.js';
import type { OutcomeEventType } from '../../src/notify/events.js';
import { DRY_RUN_RESUME_NOTE, resumeNoteFor, resumeStatusFor } from '../../src/notify/resume-rule.js';

type Row = [OutcomeEventType, number | undefined, boolean, 'completed' | 'failed' | null];

// type, devices found, evidence on, expected
const TABLE: Row[] = [
  ['offboarding.retired', 2, true, null], // verification follows: wait for it
  ['offboarding.retired', 2, false, 'completed'],
  ['offboarding.retired', undefined, true, 'completed'], // no inventory: nothing else will follow
  ['offboarding.retired', 0, true, 'completed'], // RETIRE_WHEN_NO_DEVICES: nothing to verify
  ['offboarding.retired', undefined, false, 'completed'],
  ['offboarding.no_devices', 0, true, 'completed'],
  ['offboarding.no_devices', 0, false, 'completed'],
  // A dry run retired nothing: never `completed` (only a global DRY_RUN gets here; intake refuses
  // a request pairing dryRun with a callback).
  ['offboarding.dry_run', undefined, true, 'failed'],
  ['offboarding.dry_run', undefined, false, 'failed'],
  ['offboarding.dead_lettered', undefined, true, 'failed'],
  ['offboarding.dead_lettered', undefined, false, 'failed'],
  ['offboarding.verified', 2, true, 'completed'],
  ['offboarding.unverified', 2, true, 'failed'],
];

describe('resumeStatusFor', () => {
  it.each(TABLE)('%s with devices=%s, evidence on=%s → %s', (type, devices, evidenceOn, expected) => {
    const data = {
      jobId: 'j',
      user: 'u@contoso.com',
      outcome: type.slice('offboarding.'.length),
      correlationId: 'c',
      requestedBy: 'r',
      ...(devices !== undefined ? { devices } : {}),
    };
    expect(resumeStatusFor({ type, data }, evidenceOn)).toBe(expected);
  });

  it('knows nothing of other event types', () => {
    const data = { jobId: 'j', user: 'u', outcome: 'x', correlationId: 'c', requestedBy: 'r' };
    expect(resumeStatusFor({ type: 'offboarding.other' as OutcomeEventType, data }, false)).toBeNull();
  });

  it('a dry run resume says nothing was retired; the body keeps only the parameters Graph defines', () => {
    expect(resumeNoteFor({ type: 'offboarding.dry_run' })).toBe(DRY_RUN_RESUME_NOTE);
    expect(resumeNoteFor({ type: 'offboarding.retired' })).toBeUndefined();
    const body = JSON.parse(resumeBody('failed', DRY_RUN_RESUME_NOTE));
    expect(Object.keys(body).sort()).toEqual(['data', 'source', 'type']);
    expect(body.data.operationStatus).toBe('failed');
    expect(body.source).toBe(`offboard: ${DRY_RUN_RESUME_NOTE}`);
    expect(JSON.parse(resumeBody('completed')).source).toBe('offboard');
  });
});
