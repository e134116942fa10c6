// Shapes of the mass-change guard: a bulk submission above GUARD_THRESHOLD waits as a batch.
import type { ValidRequest } from '../intake/validate.js';
import type { DevicePlan, Source } from '../interfaces.js';

/**
 * held → approving → approved, or held → rejected | expired. `approving` is recorded before the
 * first job is written so a crash mid-approval is visible and resumable (never re-opened as held).
 */
export const BATCH_STATES = ['held', 'approving', 'approved', 'rejected', 'expired'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

export interface BatchSummary {
  id: string;
  state: BatchState;
  source: Source;
  submittedBy: string;
  createdAt: string;
  /** A held batch turns `expired` at this instant (GUARD_TTL after submission). */
  expiresAt: string;
  /** Valid, distinct users in the batch: the number the guard compared with its threshold. */
  count: number;
  /** Items refused at submission; they are not part of the batch. */
  invalid: number;
  /** Repeats of a user inside the submission, folded into its first occurrence. */
  duplicate: number;
  /** Every job of the batch records outcome `dry_run` instead of calling Graph. */
  dryRun: boolean;
  /** The tenant (TENANTS_FILE) every item of the batch belongs to; absent without a tenants file. */
  tenant?: string;
  /** The first few users, so an operator can recognise the batch. */
  sample: string[];
  /**
   * What an approval or rejection must name (API `If-Match`, CLI `--version`, the console form's
   * hidden field): 1 when held, one more for every user added since (a stream of single requests
   * held by the window joins the open batch). A decision for another version is refused.
   */
  version: number;
  /** Who approved or rejected it (`guard` for an expiry) and when. */
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
  /** Items written to the retire queue so far (approval progress, the resume point after a crash). */
  enqueued?: number;
  /** What approving gave, summed over the whole batch. */
  result?: { accepted: number; duplicate: number; invalid: number };
  /**
   * `wipe`: leavers held because their devices to wipe or delete would pass GUARD_WIPE_THRESHOLD
   * within GUARD_WINDOW (src/guard/wipe-hold.ts); each item lists its devices and actions.
   */
  kind?: 'wipe';
  /** A wipe batch: the devices to wipe or delete, over all its leavers. */
  devices?: number;
}

/** One item as stored in a batch's Redis list: `n` is the item's index or CSV line number. */
export interface StagedItem {
  n: number;
  r: ValidRequest;
  /** A wipe batch's item: the leaver's devices with the actions an approval lets run. */
  devices?: DevicePlan[];
}
