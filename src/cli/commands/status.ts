// `offboard status [id]`: the queue at a glance, or one job (by job id or by user) with its history.
import type { Command } from 'commander';
import { getQueueStatus } from '../../control/queue-control.js';
import { getEvidence } from '../../evidence/store.js';
import { type EvidenceView, evidenceView } from '../../evidence/view.js';
import { deviceActionLines } from '../../evidence/view-lines.js';
import { listBatches } from '../../guard/batches.js';
import { pendingJobIds } from '../../intake/pending.js';
import type { AuditRecord } from '../../interfaces.js';
import type { QueueContext } from '../../queue/context.js';
import { isValidId } from '../../queue/ids.js';
import { userHistory } from '../../records/audit.js';
import { mergedHistory, userNames } from '../../records/user-jobs.js';
import { tenantOverviews } from '../../tenants/overview.js';
import { tenantStateReader } from '../../tenants/state-reader.js';
import { normaliseUser } from '../../values/user.js';
import { CommandFailedError } from '../errors.js';
import { escapeText } from '../escape.js';
import { withQueueContext } from '../queue-context.js';
import { action, printJson } from '../run.js';
import { tenantLine } from '../tenant-lines.js';
import { tenantFilter } from '../tenant-option.js';

interface StatusOptions {
  user?: string;
  json?: boolean;
  tenant?: string;
}

export interface JobStatus {
  id: string | null;
  user: string;
  state: string;
  data?: unknown;
  attemptsMade?: number;
  record?: unknown;
  failedReason?: string;
  scheduledFor?: string;
  history: AuditRecord[];
  /** Devices before, the action, each device after; null without evidence. */
  evidence?: EvidenceView | null;
}

async function jobStatus(
  ctx: QueueContext,
  ref: string,
  byUser: boolean,
  tenant?: string,
): Promise<JobStatus> {
  let job = byUser || !isValidId(ref) ? undefined : await ctx.retire.getJob(ref);
  let user: string | undefined = job?.data?.user;
  let names: string[] = [];
  if (!job) {
    // Not a job id: a GUID or UPN may be the user; their pending job is found through dedup.
    try {
      user = normaliseUser(ref);
    } catch {
      throw new CommandFailedError(`no job with id ${ref.slice(0, 128)}`);
    }
    // A UPN also finds the jobs of the object ids it is known to have (records/user-jobs.ts).
    names = await userNames(ctx, user);
    for (const name of names) {
      const ids = await pendingJobIds(ctx, name, tenant);
      job = ids.real ? await ctx.retire.getJob(ids.real) : undefined;
      if (!job && ids.dryRun) job = await ctx.retire.getJob(ids.dryRun);
      if (job) break;
    }
  }
  const history =
    names.length > 0 ? await mergedHistory(ctx, names) : user ? await userHistory(ctx, user) : [];
  if (!job) {
    if (history.length === 0) throw new CommandFailedError(`no job or history for ${ref.slice(0, 128)}`);
    return { id: null, user: user as string, state: 'none pending', history };
  }
  const [state, evidence] = await Promise.all([
    job.getState(),
    getEvidence(ctx.redis, ctx.prefix, job.id as string),
  ]);
  // effectiveAt is kept current by reschedules; job.timestamp + delay would not be.
  const scheduled = state === 'delayed' ? job.data.effectiveAt : undefined;
  return {
    id: job.id as string,
    user: job.data.user,
    state,
    data: job.data,
    attemptsMade: job.attemptsMade,
    ...(job.returnvalue ? { record: job.returnvalue } : {}),
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
    ...(scheduled ? { scheduledFor: scheduled } : {}),
    history,
    evidence: evidence ? evidenceView(evidence) : null,
  };
}

/** The evidence as lines: the action, then one line per device, before → after. */
function evidenceLines(e: EvidenceView): string[] {
  const v = e.verification;
  const out = [
    `evidence verification ${v.state}, ${v.checks} check(s)${v.endedAt ? `, ended ${v.endedAt}` : v.deadline ? `, until ${v.deadline}` : ''}`,
    `  inventory ${e.inventoriedAt}: ${e.devices.length} device(s)`,
    e.action
      ? `  action    ${e.action.at} HTTP ${e.action.status}${e.action.requestId ? ` request-id ${e.action.requestId}` : ''}`
      : `  action    none sent (${e.outcome})`,
  ];
  for (const d of e.devices) {
    const after = d.after
      ? `${d.after.result} (${d.after.stateAfter ?? 'gone'}, ${d.after.checkedAt})`
      : 'not checked yet';
    out.push(
      `  device    ${d.id}  ${d.deviceName ?? '-'}  ${d.operatingSystem ?? '-'}  serial ${d.serialNumber ?? '-'}  ${d.managementState ?? '-'} → ${after}`,
    );
    out.push(...deviceActionLines(d));
  }
  return out;
}

function printJob(s: JobStatus): void {
  const out = [`job      ${s.id ?? '-'}`, `user     ${s.user}`, `state    ${s.state}`];
  if (s.scheduledFor) out.push(`runs at  ${s.scheduledFor}`);
  if (s.attemptsMade !== undefined) out.push(`attempts ${s.attemptsMade}`);
  if (s.failedReason) out.push(`failed   ${s.failedReason}`);
  if (s.record) out.push(`record   ${JSON.stringify(s.record)}`);
  if (s.evidence) out.push(...evidenceLines(s.evidence));
  out.push('history:');
  for (const h of s.history) {
    out.push(
      `  ${h.at}  ${h.type.padEnd(13)} ${h.actor}${h.details ? `  ${JSON.stringify(h.details)}` : ''}`,
    );
  }
  process.stdout.write(`${out.map(escapeText).join('\n')}\n`);
}

export function configure(cmd: Command): void {
  cmd
    .argument('[id]', 'job id, or a user (GUID or UPN) to show their pending job and history')
    .option('--user <user>', 'look up by user even when it looks like a job id')
    .option('--json', 'print as JSON')
    .option(
      '--tenant <name>',
      'TENANTS_FILE: that tenant only (its line; with a user, its pending job); default: a line per tenant',
    )
    .addHelpText(
      'after',
      `
Examples:
  offboard status
  offboard status --tenant contoso
  offboard status 6a1c7c9e-2f1d-4a55-9d0e-1f0b7a3c2d11 --json
  offboard status --user alice@contoso.com`,
    )
    .action(
      action(async (id: string | undefined, opts: StatusOptions) => {
        await withQueueContext(async (ctx) => {
          const tenant = tenantFilter(ctx.config, opts.tenant);
          const ref = opts.user ?? id;
          if (ref) {
            const s = await jobStatus(ctx, ref, !!opts.user, tenant);
            return opts.json ? printJson(s) : printJob(s);
          }
          const [status, held] = await Promise.all([
            getQueueStatus(ctx),
            listBatches(ctx, { state: 'held' }),
          ]);
          const tenants = await tenantOverviews(ctx, {
            ...(tenant ? { only: [tenant] } : {}),
            state: tenantStateReader,
            heldBatches: held,
          });
          if (tenant) {
            // One tenant: its own figures, not the deployment's.
            if (opts.json) return printJson(tenants[0]);
            process.stdout.write(`${escapeText(tenantLine(tenants[0] as (typeof tenants)[number]))}\n`);
            return;
          }
          const out = { ...status, heldBatches: held.length, ...(tenants.length > 0 ? { tenants } : {}) };
          if (opts.json) return printJson(out);
          const c = status.retire;
          process.stdout.write(
            `${[
              `retire       waiting ${c.waiting ?? 0}  delayed ${c.delayed ?? 0}  active ${c.active ?? 0}  completed ${c.completed ?? 0}  failed ${c.failed ?? 0}`,
              `dead-letter  ${status.deadLetter.total ?? 0}`,
              `paused       ${status.paused ? `yes — ${status.pause?.reason ?? 'unknown'} (${status.pause?.actor ?? '?'}, ${status.pause?.at ?? '?'})` : 'no'}`,
              `circuit      ${status.circuit.open ? `OPEN — ${status.circuit.code ?? ''} ${status.circuit.reason ?? ''}` : 'closed'}`,
              `throttle     ${status.throttle.ratePerSecond}/s (factor ${status.throttle.factor})${status.throttle.pausedUntil ? `, Retry-After until ${status.throttle.pausedUntil}` : ''}`,
              `held batches ${held.length}`,
              ...tenants.map(tenantLine),
            ]
              .map(escapeText)
              .join('\n')}\n`,
          );
        });
      }),
    );
}
