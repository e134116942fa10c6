// `offboard enqueue <user…>`: queue leavers from the command line. One user goes straight in;
// several go through the mass-change guard like any bulk submission.
import type { Command } from 'commander';
import { leaverPlanLines, omittedText } from '../../device-policy/describe.js';
import {
  graphDevicePlans,
  type LeaverDevicePlan,
  MAX_PLAN_LEAVERS,
} from '../../device-policy/leaver-plans.js';
import { runBulk, type SubmitResult, submitBulk, submitOne } from '../../front-door/front-door.js';
import { holdCauseText } from '../../guard/window.js';
import type { BulkItemResult, OffboardRequest } from '../../intake/enqueue.js';
import { InvalidRequestError, validateRequest } from '../../intake/validate.js';
import type { QueueContext } from '../../queue/context.js';
import { assertTimeZone, InvalidTimeZoneError, resolveEffectiveAt } from '../../values/timezone.js';
import { usageOnBadProfile } from '../device-policy-option.js';
import { UsageError } from '../errors.js';
import { safe } from '../escape.js';
import { withQueueContext } from '../queue-context.js';
import { action, actor, config, printJson } from '../run.js';
import { producerTenant } from '../tenant-option.js';

interface EnqueueOptions {
  reason?: string;
  effectiveAt?: string;
  tz?: string;
  correlationId?: string;
  dryRun?: boolean;
  dryRunJobs?: boolean;
  devicePolicy?: string;
  as?: string;
  json?: boolean;
  tenant?: string;
}

/** Builds and validates every request first: a typo in one argument enqueues nothing (exit 2). */
function buildRequests(users: string[], opts: EnqueueOptions, tenant?: string): OffboardRequest[] {
  if (opts.tz) {
    try {
      assertTimeZone(opts.tz);
    } catch (err) {
      if (err instanceof InvalidTimeZoneError) throw new UsageError(`--tz: ${err.message}`);
      throw err;
    }
  }
  if (opts.correlationId && users.length > 1) {
    throw new UsageError('--correlation-id applies to one user; give one user per call');
  }
  const problems: string[] = [];
  const requests = users.map((user) => {
    const req: Record<string, unknown> = { user };
    try {
      if (opts.reason) req.reason = opts.reason;
      if (opts.effectiveAt) req.effectiveAt = resolveEffectiveAt(opts.effectiveAt, opts.tz);
      if (opts.correlationId) req.correlationId = opts.correlationId;
      if (opts.dryRunJobs) req.dryRun = true;
      if (opts.devicePolicy !== undefined) req.devicePolicy = opts.devicePolicy;
      if (tenant) req.tenant = tenant;
      validateRequest(req);
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      problems.push(`${JSON.stringify(user.slice(0, 120))}: ${err.message}`);
    }
    return req as unknown as OffboardRequest;
  });
  if (problems.length > 0) {
    throw new UsageError(`nothing enqueued, ${problems.length} invalid argument(s): ${problems.join('; ')}`);
  }
  return requests;
}

function line(r: BulkItemResult): string {
  if (r.status === 'invalid') return `invalid    ${r.user ?? '?'}  ${r.error}`;
  const when = r.effectiveAt ? ` at ${r.effectiveAt}` : '';
  const profile = r.devicePolicy
    ? `, device policy ${r.devicePolicy}${r.requestedDevicePolicy ? ` (kept; asked ${r.requestedDevicePolicy})` : ''}`
    : '';
  return `${r.status.padEnd(10)} ${r.user}  job ${r.id} (${r.state}${when}${profile})`;
}

async function plan(
  ctx: QueueContext,
  requests: OffboardRequest[],
  who: string,
  json: boolean,
): Promise<void> {
  const rows: { index: number; user: string; status: string; jobId?: string; devicePolicy?: string }[] = [];
  const out = await runBulk(
    ctx,
    requests.map((item, n) => ({ n, item })),
    {
      plan: true,
      meta: { requestedBy: who, source: 'cli' },
      onRow: (e) => {
        // The arguments were validated before (exit 2), so every item is new or a duplicate.
        if (e.status !== 'invalid')
          rows.push({
            index: e.n,
            user: e.user,
            status: e.status,
            ...(e.status === 'duplicate' && e.jobId ? { jobId: e.jobId } : {}),
            ...(e.devicePolicy ? { devicePolicy: e.devicePolicy } : {}),
          });
      },
    },
  );
  // Under a device policy: each new leaver's devices with their actions (GETs, read pacer).
  const leavers = rows.flatMap((r) =>
    r.status === 'new' && r.devicePolicy ? [{ user: r.user, profile: r.devicePolicy }] : [],
  );
  let devicePlans: LeaverDevicePlan[] | undefined;
  if (ctx.config.devicePolicy && leavers.length > 0) {
    const reader = graphDevicePlans(ctx);
    try {
      devicePlans = await reader.read(leavers.slice(0, MAX_PLAN_LEAVERS));
    } finally {
      await reader.close();
    }
  }
  const omitted = Math.max(0, leavers.length - MAX_PLAN_LEAVERS);
  if (json) {
    return printJson({
      dryRun: true,
      rows,
      wouldHold: out.wouldHold,
      ...(devicePlans ? { devicePlans, ...(omitted ? { devicePlansOmitted: omitted } : {}) } : {}),
    });
  }
  for (const p of devicePlans ?? []) for (const l of leaverPlanLines(p)) process.stdout.write(safe`${l}\n`);
  if (omitted) process.stdout.write(`${omittedText(omitted, MAX_PLAN_LEAVERS)}\n`);
  for (const r of rows)
    process.stdout.write(
      safe`${r.status.padEnd(10)} ${r.user}${r.jobId ? `  pending job ${r.jobId}` : ''}\n`,
    );
  process.stdout.write(
    safe`dry run: ${out.accepted} new, ${out.duplicate} duplicate; nothing enqueued` +
      (out.wouldHold ? ` (would be held for approval: ${holdCauseText(ctx, out.cause)})` : '') +
      '\n',
  );
}

export function configure(cmd: Command): void {
  cmd
    .argument('<user...>', 'Entra object id (GUID) or userPrincipalName')
    .option('--reason <text>', 'why (recorded with the job)')
    .option('--effective-at <when>', 'leave moment: ISO 8601 with offset, or a date / local time with --tz')
    .option('--tz <zone>', 'IANA time zone for --effective-at without an offset, e.g. Europe/Berlin')
    .option('--correlation-id <id>', 'your reference, kept in every record (one user only)')
    .option('--dry-run', 'show what would happen (new / duplicate), enqueue nothing')
    .option('--dry-run-jobs', 'enqueue, but the jobs record outcome dry_run instead of calling Graph')
    .option(
      '--device-policy <profile>',
      'device policy profile (DEVICE_POLICY_FILE) deciding what happens to each device; default: its default',
    )
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON')
    .option('--tenant <name>', "TENANTS_FILE: the leavers' tenant (required when several are configured)")
    .addHelpText(
      'after',
      `
Examples:
  offboard enqueue alice@contoso.com --reason "left 2026-11-30"
  offboard enqueue bob@contoso.com --effective-at 2026-12-01 --tz Europe/Berlin
  offboard enqueue 3f2504e0-4f89-11d3-9a0c-0305e82c3301 carol@contoso.com --json

A plain date (2026-12-01) means 00:00 that day in --tz. Cancel or move a pending leaver with
\`offboard cancel\` / \`offboard reschedule\`.
Exit codes: 0 queued (or already pending), 1 failure, 2 invalid argument (nothing queued).`,
    )
    .action(
      action(async (users: string[], opts: EnqueueOptions) => {
        const who = actor(opts.as);
        const requests = buildRequests(users, opts, producerTenant(config(), opts.tenant));
        await withQueueContext(async (ctx) => {
          usageOnBadProfile(ctx, opts.devicePolicy);
          if (opts.dryRun) return plan(ctx, requests, who, !!opts.json);
          let out: SubmitResult;
          if (requests.length === 1) {
            const one = await submitOne(ctx, requests[0] as OffboardRequest, {
              requestedBy: who,
              source: 'cli',
            });
            out = one.held
              ? { held: true, batch: one.batch, invalid: [], cause: one.cause }
              : {
                  held: false,
                  results: [
                    { index: 0, status: one.result.duplicate ? 'duplicate' : 'accepted', ...one.result },
                  ],
                };
          } else {
            out = await submitBulk(ctx, requests, { requestedBy: who, source: 'cli' });
          }
          if (opts.json) return printJson(out);
          if (out.held) {
            process.stdout.write(
              safe`held for approval: batch ${out.batch.id} (${out.batch.count} users, ${holdCauseText(ctx, out.cause)})\n` +
                `approve with: offboard batches approve ${out.batch.id}\n`,
            );
            return;
          }
          for (const r of out.results) process.stdout.write(safe`${line(r)}\n`);
        });
      }),
    );
}
