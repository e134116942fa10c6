// The read budget's pacer: device inventory, verification re-reads and Entra user queries share it
// across every process. Same scheme as the write pacer (GCRA in Redis, global Retry-After gate,
// adaptive factor) on its OWN keys and rate (GRAPH_READ_RATE_LIMIT): Intune counts reads apart from
// writes (device reads 2,000 per 20 s per app, writes 200), so a 429 on a read gates reads only and
// a read never takes a write slot. The circuit holds reads too: when it is open nothing calls Graph.
import { type BudgetPacerOptions, createBudgetPacer } from './budget-pacer.js';
import type { Pacer } from './pacer.js';

export type ReadPacerOptions = BudgetPacerOptions;

export function createReadPacer(opts: ReadPacerOptions): Pacer {
  return createBudgetPacer(opts, 'read');
}
