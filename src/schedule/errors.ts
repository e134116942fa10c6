// Named errors of scheduled sweeps; callers branch on the class.

/** A schedule definition is malformed (name, cron, zone, source). Exit code 2 on the CLI. */
export class InvalidScheduleError extends Error {
  override readonly name = 'InvalidScheduleError';
  readonly exitCode = 2;
}

export class ScheduleNotFoundError extends Error {
  override readonly name = 'ScheduleNotFoundError';
  readonly exitCode = 1;
  constructor(readonly scheduleName: string) {
    super(`no schedule named ${scheduleName.slice(0, 64)}`);
  }
}

/** The sweep's source could not be read (file missing, feed down, bad JSON, too large). */
export class SweepSourceError extends Error {
  override readonly name = 'SweepSourceError';
  readonly exitCode = 1;
}
