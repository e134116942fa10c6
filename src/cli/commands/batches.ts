// `offboard batches list|show|approve|reject`: bulk submissions held by the mass-change guard.
// `list` and `show` print each batch's version; approve and reject take `--batch-version V`, the version
// the operator reviewed, and refuse without it or when users were added since (exit 1, the new
// version and count printed): a decision never covers a user the operator was not shown.
import type { Command } from 'commander';
import { actionsText, deviceLabel, ruleText } from '../../device-policy/describe.js';
import { approveBatch, getBatch, listBatches, listBatchItems, rejectBatch } from '../../guard/batches.js';
import { BATCH_STATES, type BatchState, type BatchSummary } from '../../guard/types.js';
import { UsageError } from '../errors.js';
import { safe } from '../escape.js';
import { withQueueContext } from '../queue-context.js';
import { action, actor, printJson } from '../run.js';
import { tenantFilter } from '../tenant-option.js';
import { textOption } from '../text-option.js';

function row(b: BatchSummary): string {
  const decided = b.decidedBy ? `  ${b.state} by ${b.decidedBy} ${b.decidedAt ?? ''}` : '';
  const result = b.result ? `  accepted ${b.result.accepted}, duplicate ${b.result.duplicate}` : '';
  const wipe = b.kind === 'wipe' ? `  wipe approval: ${b.devices ?? 0} devices to wipe or delete` : '';
  return `${b.id}  v${b.version}  ${b.state.padEnd(9)} ${String(b.count).padStart(6)} users  ${b.source} by ${b.submittedBy}  ${b.createdAt}  expires ${b.expiresAt}${b.dryRun ? '  dry run' : ''}${wipe}${decided}${result}`;
}

/** `--batch-version 3` or `--batch-version v3` (as list/show print it). Not `--version`: that is the CLI's own. */
function versionOption(raw: string): number {
  const m = /^v?(\d{1,9})$/.exec(raw.trim());
  const v = m ? Number(m[1]) : 0;
  if (v < 1)
    throw new UsageError('--batch-version must be the batch version printed by batches show, e.g. 3');
  return v;
}

export function configure(cmd: Command): void {
  const batches = cmd.addHelpText(
    'after',
    `
Examples:
  offboard batches list --state held
  offboard batches show 0b9e…  --limit 20          (prints the batch's version, e.g. v3)
  offboard batches approve 0b9e… --batch-version 3 --as bob   (GUARD_TWO_PERSON: not the submitter)
  offboard batches reject 0b9e… --batch-version 3 --reason "wrong file" --as bob

Approve and reject name the version you reviewed; a batch that took users since is refused
(exit 1) with its new version and count: show it again, then decide that version.

A held batch expires after GUARD_TTL (default 72h); rejected and expired batches enqueue nothing.`,
  );

  batches
    .command('list')
    .description('List batches, newest first')
    .option('--state <state>', `only this state (${BATCH_STATES.join(', ')})`)
    .option('--tenant <name>', "TENANTS_FILE: only this tenant's batches")
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  offboard batches list --state held --json')
    .action(
      action(async (opts: { state?: string; json?: boolean; tenant?: string }) => {
        if (opts.state && !(BATCH_STATES as readonly string[]).includes(opts.state)) {
          throw new UsageError(`--state must be one of ${BATCH_STATES.join(', ')}`);
        }
        await withQueueContext(async (ctx) => {
          const tenant = tenantFilter(ctx.config, opts.tenant);
          const all = await listBatches(ctx, {
            state: opts.state as BatchState | undefined,
            ...(tenant ? { limit: 1000 } : {}),
          });
          const list = tenant ? all.filter((b) => b.tenant === tenant) : all;
          if (opts.json) return printJson(list);
          if (list.length === 0) process.stdout.write('no batches\n');
          for (const b of list) process.stdout.write(safe`${row(b)}\n`);
        });
      }),
    );

  batches
    .command('show')
    .description('Show one batch and the first of its users')
    .argument('<id>', 'batch id')
    .option('--limit <n>', 'users to show', '20')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  offboard batches show 0b9e… --limit 100')
    .action(
      action(async (id: string, opts: { limit: string; json?: boolean }) => {
        const limit = Number(opts.limit);
        if (!/^\d+$/.test(opts.limit) || limit < 1 || limit > 10_000) {
          throw new UsageError('--limit must be a whole number from 1 to 10000');
        }
        await withQueueContext(async (ctx) => {
          const batch = await getBatch(ctx, id);
          const items = await listBatchItems(ctx, id, { limit });
          if (opts.json) return printJson({ batch, items });
          process.stdout.write(safe`${row(batch)}\n`);
          for (const i of items) {
            process.stdout.write(
              safe`  #${i.n}  ${i.r.user}${i.r.effectiveAt ? `  at ${i.r.effectiveAt}` : ''}${i.r.reason ? `  ${i.r.reason}` : ''}${i.r.devicePolicy ? `  device policy ${i.r.devicePolicy}` : ''}\n`,
            );
            // A wipe batch: every device of the leaver with what approving lets happen to it.
            for (const d of i.devices ?? []) {
              process.stdout.write(safe`      ${deviceLabel(d)}  ${ruleText(d)}: ${actionsText(d)}\n`);
            }
          }
          if (batch.state === 'held') {
            const shown =
              items.length < batch.count ? ` (${items.length} of ${batch.count} shown: --limit)` : '';
            process.stdout.write(
              safe`to decide these ${batch.count} users${shown}: offboard batches approve|reject ${batch.id} --batch-version ${String(batch.version)}\n`,
            );
          }
        });
      }),
    );

  batches
    .command('approve')
    .description('Approve a held batch: its users are enqueued (usual per-user deduplication)')
    .argument('<id>', 'batch id')
    .requiredOption('--batch-version <v>', 'the version you reviewed (printed by batches show/list)')
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  offboard batches approve 0b9e… --batch-version 3 --as bob')
    .action(
      action(async (id: string, opts: { batchVersion: string; as?: string; json?: boolean }) => {
        const who = actor(opts.as);
        const version = versionOption(opts.batchVersion);
        await withQueueContext(async (ctx) => {
          const { batch } = await approveBatch(ctx, id, who, { results: false, version });
          if (opts.json) return printJson(batch);
          process.stdout.write(
            safe`batch ${batch.id} approved by ${who}: ${batch.result?.accepted ?? 0} enqueued, ${batch.result?.duplicate ?? 0} already pending\n`,
          );
        });
      }),
    );

  batches
    .command('reject')
    .description('Reject a held batch: nothing is enqueued')
    .argument('<id>', 'batch id')
    .requiredOption('--batch-version <v>', 'the version you reviewed (printed by batches show/list)')
    .option('--reason <text>', 'why (kept in the audit entry)')
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  offboard batches reject 0b9e… --batch-version 3 --reason "wrong file"',
    )
    .action(
      action(
        async (id: string, opts: { batchVersion: string; reason?: string; as?: string; json?: boolean }) => {
          const who = actor(opts.as);
          const version = versionOption(opts.batchVersion);
          const reason = textOption(opts.reason, '--reason');
          await withQueueContext(async (ctx) => {
            const batch = await rejectBatch(ctx, id, who, { reason, version });
            if (opts.json) return printJson(batch);
            process.stdout.write(safe`batch ${batch.id} rejected by ${who}; nothing enqueued\n`);
          });
        },
      ),
    );
}
