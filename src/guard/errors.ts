// Named errors of the mass-change guard; the API and CLI branch on these classes, never on messages.
import type { BatchState } from './types.js';

export class BatchNotFoundError extends Error {
  override readonly name = 'BatchNotFoundError';
  readonly exitCode = 1;
  constructor(readonly id: string) {
    super(`no batch with id ${id.slice(0, 80)}`);
  }
}

/** The batch is not waiting for a decision (already approved, rejected, expired, or being approved). */
export class BatchStateError extends Error {
  override readonly name = 'BatchStateError';
  readonly exitCode = 1;
  constructor(
    readonly id: string,
    readonly state: BatchState,
  ) {
    super(
      state === 'approving'
        ? `batch ${id} is being approved right now`
        : `batch ${id} is ${state}, only a held batch can be approved or rejected`,
    );
  }
}

/** GUARD_TWO_PERSON: the person who submitted a batch may not approve it. */
export class TwoPersonRuleError extends Error {
  override readonly name = 'TwoPersonRuleError';
  readonly exitCode = 1;
  constructor(
    readonly id: string,
    readonly actor: string,
  ) {
    super(`batch ${id} was submitted by ${actor}; another operator must approve it (GUARD_TWO_PERSON)`);
  }
}
