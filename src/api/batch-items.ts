// Batch items are checked one by one against the same schema as a single request, so one bad item
// never sinks the batch; items that pass go on to the intake library (which checks the meaning).
import type { BulkItemResult } from '../intake/enqueue.js';
import { offboardingRequest } from './schemas/offboarding.js';
import { describeError, makeAjv } from './validation.js';

type Invalid = Extract<BulkItemResult, { status: 'invalid' }>;

const checkItem = makeAjv(false).compile(offboardingRequest);

export interface Screened {
  /** Items that passed, with their index in the submitted list. */
  passed: { index: number; item: unknown }[];
  refused: Invalid[];
}

export function screenItems(items: readonly unknown[]): Screened {
  const passed: Screened['passed'] = [];
  const refused: Invalid[] = [];
  items.forEach((item, index) => {
    if (checkItem(item)) {
      passed.push({ index, item });
      return;
    }
    const err = checkItem.errors?.[0];
    const user = (item as { user?: unknown } | null)?.user;
    refused.push({
      index,
      status: 'invalid',
      ...(typeof user === 'string' ? { user: user.slice(0, 200) } : {}),
      error: err ? describeError(err, 'item') : 'item is invalid',
    });
  });
  return { passed, refused };
}

/** Results of the passed items carry their index in that sub-list; map back to the submission. */
export function reindex<T extends { index: number }>(results: readonly T[], passed: Screened['passed']): T[] {
  return results.map((r) => ({ ...r, index: passed[r.index]?.index ?? r.index }));
}
