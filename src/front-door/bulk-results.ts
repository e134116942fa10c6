// Turning the bulk pipeline's events back into one answer per item, in input order, for a
// submission held in memory (submitBulk). The pipeline reports invalid items and repeats while it
// stages, and the enqueue results per chunk afterwards; a repeat learns its job id only then.
import type { ItemEvent, OnResults } from '../guard/pipeline.js';
import type { BulkItemResult } from '../intake/enqueue.js';

export type InvalidItem = Extract<BulkItemResult, { status: 'invalid' }>;

export interface BulkCollector {
  onItem: (e: ItemEvent) => void;
  onResults: OnResults;
  /** Invalid items, in input order (what a held submission still reports). */
  invalid: InvalidItem[];
  /** Every item's result once the staged items were enqueued. */
  results: () => BulkItemResult[];
}

export function collectBulk(size: number): BulkCollector {
  const results: BulkItemResult[] = new Array(size);
  const invalid: InvalidItem[] = [];
  const repeats: { n: number; user: string }[] = [];
  return {
    invalid,
    onItem: (e) => {
      if (e.status === 'invalid') {
        const { n, ...rest } = e;
        invalid.push({ index: n, ...rest });
      } else repeats.push({ n: e.n, user: e.user });
    },
    onResults: (chunk) => {
      for (const r of chunk) results[r.index] = r;
    },
    results: () => {
      for (const r of invalid) results[r.index] = r;
      const jobOf = new Map<string, string>();
      for (const r of results) if (r && r.status !== 'invalid') jobOf.set(r.user, r.id);
      for (const { n, user } of repeats) {
        results[n] = {
          index: n,
          status: 'duplicate',
          id: jobOf.get(user) ?? '',
          user,
          state: 'pending',
          duplicate: true,
        };
      }
      return results;
    },
  };
}
