// What the retire processor needs from multi-tenant dispatch (implemented in src/tenants/dispatch.ts):
// declared here so the worker does not import the tenants folder (which builds on the worker's types).
import type { Job } from 'bullmq';
import type { Circuit } from '../control/circuit.js';
import type { RetireJobData, RetireRecord } from '../interfaces.js';
import type { Pacer } from '../pacing/pacer.js';
import type { AttemptDeps, JobRun } from './attempt.js';

/** The job's tenant cannot send now: the job goes back to delayed for `waitMs` (its turn, or a gate). */
export class TenantDeferError extends Error {
  override readonly name = 'TenantDeferError';
  constructor(readonly waitMs: number) {
    super(`tenant cannot send for ${waitMs} ms`);
  }
}

/** What a job of one tenant runs with: the tenant's call context, read budget and circuit. */
export interface AdmittedJob {
  circuit: Circuit;
  attemptDeps: AttemptDeps;
  reads: Pacer;
  /** Sends the job back to delayed at its tenant's next turn; always throws (DelayedError). */
  defer(run: JobRun, err: TenantDeferError, token?: string): Promise<never>;
}

export interface Dispatcher {
  /**
   * The job's tenant context with a write slot taken, or the job is put back (delayed at its turn, or
   * parked while its tenant's circuit is open) and this throws BullMQ's DelayedError. InvalidJobError
   * for a job without a configured tenant.
   */
  admit(job: Job<RetireJobData, RetireRecord>, data: RetireJobData, token?: string): Promise<AdmittedJob>;
}
