// The write budget's pacer from configuration: the retire POSTs (and the Lifecycle Workflows resume
// calls) share it across every process, at GRAPH_RATE_LIMIT, on the keys the status pages read.
import { type BudgetPacerOptions, createBudgetPacer } from './budget-pacer.js';
import type { Pacer } from './pacer.js';

export type WritePacerOptions = BudgetPacerOptions;

export function createWritePacer(opts: WritePacerOptions): Pacer {
  return createBudgetPacer(opts, 'write');
}
