// When a Lifecycle Workflows run hears back, and with which status. The one rule, kept pure so a
// table test pins it: the workflow's later tasks (disable the account, remove licences…) must wait
// for the devices, so with evidence on a retire with devices is final only once verification ends.
// A dry run never completes a task: nothing was retired, so the workflow's later steps (disable the
// account, remove licences) must not run as if it had. A request may not pair `dryRun` with a callback
// (intake refuses it); what remains is a global DRY_RUN trial, which resumes every waiting task failed.
import type { OutcomeEvent } from './events.js';

export type ResumeStatus = 'completed' | 'failed';

/**
 * `completed` / `failed`: resume the workflow now with that status. `null`: not final yet (a
 * retire whose devices are still being verified), or nothing to report.
 */
export function resumeStatusFor(
  event: Pick<OutcomeEvent, 'type' | 'data'>,
  evidenceOn: boolean,
): ResumeStatus | null {
  switch (event.type) {
    case 'offboarding.retired':
      // With evidence on and devices found, verification follows and its end is the outcome.
      // Without a device count (evidence off, or an older worker) nothing else will follow.
      return evidenceOn && (event.data.devices ?? 0) > 0 ? null : 'completed';
    case 'offboarding.no_devices':
    case 'offboarding.verified':
      return 'completed';
    case 'offboarding.dry_run':
    case 'offboarding.dead_lettered':
    case 'offboarding.unverified':
      return 'failed';
    default:
      return null;
  }
}

/** Said with a `failed` resume that is not a failure of the retirement itself. */
export const DRY_RUN_RESUME_NOTE = 'dry run (DRY_RUN=true): nothing was retired';

/** The note a resume carries for this outcome, when it needs one (the resume body and the audit show it). */
export function resumeNoteFor(event: Pick<OutcomeEvent, 'type'>): string | undefined {
  return event.type === 'offboarding.dry_run' ? DRY_RUN_RESUME_NOTE : undefined;
}
