// Figures computed from the simulator's call log: duplicates, calls inside a time span, retry gaps.
import type { SimStats } from '../../../src/sim/types.js';

export interface DuplicateFigures {
  /** Graph calls beyond one per user (retries of failures included). */
  extraCalls: number;
  /** Users whose action Graph applied more than once (a 2xx answered twice or more). */
  usersAppliedTwice: number;
  /** Sum over users of (2xx answers − 1). */
  duplicateSuccesses: number;
}

export function duplicates(stats: SimStats, users: readonly string[]): DuplicateFigures {
  let extraCalls = 0;
  let usersAppliedTwice = 0;
  let duplicateSuccesses = 0;
  for (const u of users) {
    extraCalls += Math.max(0, (stats.graph.byUser[u] ?? 0) - 1);
    const ok = stats.graph.successByUser[u] ?? 0;
    if (ok > 1) {
      usersAppliedTwice++;
      duplicateSuccesses += ok - 1;
    }
  }
  return { extraCalls, usersAppliedTwice, duplicateSuccesses };
}

/** Calls that arrived within [from, to). */
export function callsBetween(stats: SimStats, from: number, to: number): SimStats['graph']['log'] {
  return stats.graph.log.filter((e) => e.at >= from && e.at < to);
}

/** Users the simulator answered with a 2xx at least once. */
export function usersApplied(stats: SimStats, users: readonly string[]): number {
  return users.filter((u) => (stats.graph.successByUser[u] ?? 0) > 0).length;
}

/**
 * Mean gap between a user's n-th and (n+1)-th call, for n = 1…maxN, over users with enough calls in
 * the entries given. A growing series is the backoff made visible.
 */
export function meanRetryGaps(entries: SimStats['graph']['log'], maxN: number): number[] {
  const byUser = new Map<string, number[]>();
  for (const e of entries) {
    const list = byUser.get(e.user) ?? [];
    list.push(e.at);
    byUser.set(e.user, list);
  }
  const sums = new Array<number>(maxN).fill(0);
  const counts = new Array<number>(maxN).fill(0);
  for (const times of byUser.values()) {
    times.sort((a, b) => a - b);
    for (let n = 0; n < maxN && n + 1 < times.length; n++) {
      sums[n] = (sums[n] ?? 0) + ((times[n + 1] as number) - (times[n] as number));
      counts[n] = (counts[n] ?? 0) + 1;
    }
  }
  return sums.map((s, i) => (counts[i] ? Math.round(s / (counts[i] as number)) : Number.NaN));
}
