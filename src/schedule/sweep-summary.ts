// What one sweep run reports (CLI line, audit, schedule status). Its own file so the sweep runner and
// the Entra sweep and status recorder it calls share it without importing each other.

export interface SweepSummary {
  schedule: string;
  /** The tick this run belongs to (the scheduler's planned time). */
  tick: string;
  source: 'csv' | 'http' | 'entra';
  /** Leavers listed by the source (rows or feed items). */
  found: number;
  /** Jobs created. */
  new: number;
  /** Listed again while still pending, or repeated within the source. */
  duplicate: number;
  invalid: number;
  /** Batch id when the sweep was larger than GUARD_THRESHOLD and is waiting for approval. */
  held: string | null;
  dryRun: boolean;
  /** Entra, reconciled: pending jobs of this schedule moved to a changed leave date. */
  rescheduled?: number;
  /** Entra, reconciled: pending jobs of this schedule cancelled (reason source_withdrawn). */
  withdrawn?: number;
  /** Entra: leavers waiting in a held batch of this schedule (the new one or an earlier one). */
  heldUsers?: number;
  /** Entra: the leave-date window read, and when the read started (the next window's start). */
  window?: { from: string; to: string; readAt: string };
  /** Entra: pages read. */
  pages?: number;
  /**
   * Entra, reconciled: the tick found more withdrawn leavers than GUARD_THRESHOLD. Without an
   * operator's override (`allowedBy`) none was withdrawn (`blocked`) and the schedule is failing
   * with reason mass_withdrawal; new leavers and moved dates were handled as usual.
   */
  massWithdrawal?: { count: number; threshold: number; blocked: boolean; allowedBy?: string };
}
