// Named errors of scheduled sweeps; callers branch on the class.
import { CataloguedError } from '../errors/catalogued-error.js';

/** A schedule definition is malformed (name, cron, zone, source). Exit code 2 on the CLI. */
export class InvalidScheduleError extends CataloguedError {
  override readonly name = 'InvalidScheduleError';
  readonly errorId = 'OFB_ERR_INVALID_SCHEDULE';
}

export class ScheduleNotFoundError extends CataloguedError {
  override readonly name = 'ScheduleNotFoundError';
  readonly errorId = 'OFB_ERR_SCHEDULE_NOT_FOUND';
  constructor(readonly scheduleName: string) {
    super(`no schedule named ${scheduleName.slice(0, 64)}`);
  }
}

/** The sweep's source could not be read (file missing, feed down, bad JSON, too large). */
export class SweepSourceError extends CataloguedError {
  override readonly name = 'SweepSourceError';
  readonly errorId = 'OFB_ERR_SWEEP_SOURCE';
}
