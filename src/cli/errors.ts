/** Wrong arguments or options: exit code 2, like a configuration error. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** The command ran but what it was asked to do failed (exit code 1) — e.g. a dead letter not found. */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  readonly exitCode = 1;
}
