// Named errors of the mass-change guard; the API and CLI branch on these classes, never on messages.
import { CataloguedError } from '../errors/catalogued-error.js';
import type { BatchState } from './types.js';

export class BatchNotFoundError extends CataloguedError {
  override readonly name = 'BatchNotFoundError';
  readonly errorId = 'OFB_ERR_BATCH_NOT_FOUND';
  constructor(readonly id: string) {
    super(`no batch with id ${id.slice(0, 80)}`);
  }
}

/** The batch is not waiting for a decision (already approved, rejected, expired, or being approved). */
export class BatchStateError extends CataloguedError {
  override readonly name = 'BatchStateError';
  readonly errorId = 'OFB_ERR_BATCH_STATE';
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
export class TwoPersonRuleError extends CataloguedError {
  override readonly name = 'TwoPersonRuleError';
  readonly errorId = 'OFB_ERR_TWO_PERSON_RULE';
  constructor(
    readonly id: string,
    readonly actor: string,
  ) {
    super(`batch ${id} was submitted by ${actor}; another operator must approve it (GUARD_TWO_PERSON)`);
  }
}

export type HeldLimitScope = 'batches_per_key' | 'items_per_key' | 'items_total';

/**
 * Storing this batch would pass a cap on held batches (GUARD_MAX_HELD_BATCHES_PER_KEY,
 * GUARD_MAX_HELD_ITEMS_PER_KEY, GUARD_MAX_HELD_ITEMS). Nothing of the batch was kept.
 */
export class HeldLimitError extends CataloguedError {
  override readonly name = 'HeldLimitError';
  readonly errorId = 'OFB_ERR_HELD_LIMIT';
  constructor(
    readonly scope: HeldLimitScope,
    readonly limit: number,
    readonly current: number,
    readonly requested: number,
  ) {
    const what: Record<HeldLimitScope, string> = {
      batches_per_key: `this submitter already has ${current} held batch(es) awaiting approval (GUARD_MAX_HELD_BATCHES_PER_KEY=${limit})`,
      items_per_key: `this submitter already has ${current} held item(s); ${requested} more would pass GUARD_MAX_HELD_ITEMS_PER_KEY=${limit}`,
      items_total: `${current} item(s) are held in total; ${requested} more would pass GUARD_MAX_HELD_ITEMS=${limit}`,
    };
    super(
      `batch not stored (nothing was held or enqueued): ${what[scope]}; have held batches approved or rejected first`,
    );
  }
}

/**
 * The batch is not at the version the decider reviewed: users were added since. Nothing was
 * approved or rejected; `version` and `count` are what it holds now, to review again.
 */
export class BatchChangedError extends CataloguedError {
  override readonly name = 'BatchChangedError';
  readonly errorId = 'OFB_ERR_BATCH_CHANGED';
  constructor(
    readonly id: string,
    readonly expected: number,
    readonly version: number,
    readonly count: number,
  ) {
    super(
      `batch ${id} changed since version ${expected} was reviewed: it is now version ${version} with ${count} users; review it again and decide that version`,
    );
  }
}

/** An approval or rejection that does not name the version it reviewed. */
export class BatchVersionRequiredError extends CataloguedError {
  override readonly name = 'BatchVersionRequiredError';
  readonly errorId = 'OFB_ERR_BATCH_VERSION_REQUIRED';
  constructor(
    readonly id: string,
    readonly version: number,
    readonly count: number,
  ) {
    super(
      `name the version of batch ${id} you reviewed (it is version ${version} with ${count} users now); a decision without a version is refused`,
    );
  }
}
