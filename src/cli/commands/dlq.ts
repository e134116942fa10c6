// `offboard dlq list|redrive|discard`: the dead-letter queue, for the jobs that need a human.
import type { Command } from 'commander';
import { discardDeadLetter, type RedriveResult, redriveDeadLetter } from '../../intake/redrive.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from '../../interfaces.js';
import type { QueueContext } from '../../queue/context.js';
import {
  DeadLetterNotFoundError,
  type DeadLetterView,
  getDeadLetter,
  listDeadLetters,
} from '../../records/dead-letter.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { safe } from '../escape.js';
import { type ProgressOptions, startProgress } from '../progress.js';
import { withQueueContext } from '../queue-context.js';
import { action, actor, printJson } from '../run.js';
import { tenantFilter } from '../tenant-option.js';
import { textOption } from '../text-option.js';

interface DlqActOptions {
  all?: boolean;
  tenant?: string;
  reason?: string;
  as?: string;
  json?: boolean;
  /** false with --no-progress */
  progress?: boolean;
}

function reasonOption(value: string | undefined): DeadLetterReason | undefined {
  if (value === undefined) return undefined;
  if (!(DEAD_LETTER_REASONS as readonly string[]).includes(value))
    throw new UsageError(`--reason must be one of ${DEAD_LETTER_REASONS.join(', ')}`);
  return value as DeadLetterReason;
}

function intOption(name: string, value: string | undefined, def: number, max: number): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > max)
    throw new UsageError(`${name} must be a whole number from 0 to ${max}`);
  return n;
}

function row(d: DeadLetterView): string {
  const status = d.lastStatus === null ? '-' : String(d.lastStatus);
  return `${d.id}  ${d.original.user}  ${d.reason}  HTTP ${status}${d.graphCode ? ` ${d.graphCode}` : ''}  attempts ${d.attempts}  ${d.deadLetteredAt}${d.requestId ? `  request-id ${d.requestId}` : ''}`;
}

/** With --tenant, a dead letter of another tenant is treated as missing (TENANTS_FILE scope). */
function inTenant<T>(ctx: QueueContext, tenant: string | undefined, fn: (id: string) => Promise<T>) {
  if (!tenant) return fn;
  return async (id: string) => {
    const d = await getDeadLetter(ctx, id);
    if (d.original.tenant !== tenant) throw new DeadLetterNotFoundError(id);
    return fn(id);
  };
}

/**
 * Applies `fn` to each id, continuing past failures; exit 1 if any failed. With `progress` (only for
 * `--all`, where the count can be large) a bar on a terminal's stderr counts them.
 */
async function each<T>(
  ids: string[],
  fn: (id: string) => Promise<T>,
  json: boolean,
  show: (r: T) => string,
  progress?: ProgressOptions & { verb: string },
) {
  const done: T[] = [];
  const failed: { id: string; error: string }[] = [];
  const bar = progress
    ? startProgress(
        progress,
        ids.length,
        ` {bar} {percentage}% | {value}/{total} ${progress.verb} | {failed} failed | ETA {eta_formatted}`,
        { failed: 0 },
      )
    : null;
  try {
    for (const id of ids) {
      try {
        done.push(await fn(id));
      } catch (err) {
        failed.push({ id, error: (err as Error).message });
      }
      bar?.update(done.length + failed.length, { failed: failed.length });
    }
    bar?.finish();
  } finally {
    bar?.stop();
  }
  if (json) printJson({ done, failed });
  else {
    for (const r of done) process.stdout.write(safe`${show(r)}\n`);
    for (const f of failed) process.stderr.write(safe`offboard: ${f.error}\n`);
  }
  if (failed.length > 0) throw new CommandFailedError(`${failed.length} of ${ids.length} failed`);
}

async function selectIds(
  ctx: QueueContext,
  ids: string[],
  all: boolean,
  reason?: DeadLetterReason,
  tenant?: string,
) {
  if (ids.length > 0 && all) throw new UsageError('give dead-letter ids or --all, not both');
  if (ids.length === 0 && !all)
    throw new UsageError('give one or more dead-letter ids, or --all [--reason R]');
  if (!all) return ids;
  const out: string[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await listDeadLetters(ctx, {
      reason,
      offset,
      limit: 1000,
      ...(tenant ? { tenants: [tenant] } : {}),
    });
    out.push(...page.items.map((d) => d.id));
    if (page.items.length < 1000) return out;
  }
}

export function configure(cmd: Command): void {
  const dlq = cmd.addHelpText(
    'after',
    `
Examples:
  offboard dlq list --reason not_found
  offboard dlq redrive dl-6a1c7c9e-2f1d-4a55-9d0e-1f0b7a3c2d11 --as alice
  offboard dlq redrive --all --reason retries_exhausted
  offboard dlq discard dl-6a1c7c9e-2f1d-4a55-9d0e-1f0b7a3c2d11 --note "user re-hired"`,
  );

  dlq
    .command('list')
    .description('List dead letters, newest first')
    .option('--reason <reason>', `only this reason (${DEAD_LETTER_REASONS.join(', ')})`)
    .option('--offset <n>', 'skip this many', '0')
    .option('--limit <n>', 'at most this many (max 1000)', '50')
    .option('--tenant <name>', "TENANTS_FILE: only this tenant's dead letters")
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  offboard dlq list --reason forbidden --json')
    .action(
      action(
        async (opts: {
          reason?: string;
          offset?: string;
          limit?: string;
          json?: boolean;
          tenant?: string;
        }) => {
          const reason = reasonOption(opts.reason);
          const offset = intOption('--offset', opts.offset, 0, 10_000_000);
          const limit = Math.max(1, intOption('--limit', opts.limit, 50, 1000));
          await withQueueContext(async (ctx) => {
            const tenant = tenantFilter(ctx.config, opts.tenant);
            const page = await listDeadLetters(ctx, {
              reason,
              offset,
              limit,
              ...(tenant ? { tenants: [tenant] } : {}),
            });
            if (opts.json) return printJson(page);
            for (const d of page.items) process.stdout.write(safe`${row(d)}\n`);
            process.stdout.write(safe`${page.items.length} shown of ${page.total}\n`);
          });
        },
      ),
    );

  dlq
    .command('redrive')
    .description('Put dead letters back on the retire queue (added first, then removed: never lost)')
    .argument('[id...]', 'dead-letter ids (dl-…)')
    .option('--all', 'every dead letter (with --reason: every one with that reason)')
    .option('--reason <reason>', 'with --all: only this reason')
    .option('--tenant <name>', "TENANTS_FILE: only this tenant's dead letters (others count as missing)")
    .option('--no-progress', 'with --all: no progress bar (there is none when stderr is not a terminal)')
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON (no progress bar; errors as JSON on stderr)')
    .addHelpText(
      'after',
      '\nExample:\n  offboard dlq redrive dl-6a1c7c9e-2f1d-4a55-9d0e-1f0b7a3c2d11 --as alice',
    )
    .action(
      action(async (ids: string[], opts: DlqActOptions) => {
        const who = actor(opts.as);
        const reason = reasonOption(opts.reason);
        await withQueueContext(async (ctx) => {
          const tenant = tenantFilter(ctx.config, opts.tenant);
          const targets = await selectIds(ctx, ids, !!opts.all, reason, tenant);
          await each(
            targets,
            inTenant(ctx, tenant, (id) => redriveDeadLetter(ctx, id, who)),
            !!opts.json,
            (r: RedriveResult) =>
              `redriven ${r.deadLetterId} → job ${r.jobId}${r.duplicate ? ' (already pending)' : ''}`,
            opts.all ? { ...opts, verb: 'redriven' } : undefined,
          );
        });
      }),
    );

  dlq
    .command('discard')
    .description('Remove dead letters for good (audited)')
    .argument('[id...]', 'dead-letter ids (dl-…)')
    .option('--all', 'every dead letter (with --reason: every one with that reason)')
    .option('--reason <reason>', 'with --all: only this reason')
    .option('--tenant <name>', "TENANTS_FILE: only this tenant's dead letters (others count as missing)")
    .option('--note <text>', 'why (kept in the audit entry)')
    .option('--no-progress', 'with --all: no progress bar (there is none when stderr is not a terminal)')
    .option('--as <name>', 'who is acting (default: your OS user name)')
    .option('--json', 'print the result as JSON (no progress bar; errors as JSON on stderr)')
    .addHelpText(
      'after',
      '\nExample:\n  offboard dlq discard dl-6a1c7c9e-2f1d-4a55-9d0e-1f0b7a3c2d11 --note "re-hired"',
    )
    .action(
      action(async (ids: string[], opts: DlqActOptions & { note?: string }) => {
        const who = actor(opts.as);
        const reason = reasonOption(opts.reason);
        const note = textOption(opts.note, '--note');
        await withQueueContext(async (ctx) => {
          const tenant = tenantFilter(ctx.config, opts.tenant);
          const targets = await selectIds(ctx, ids, !!opts.all, reason, tenant);
          await each(
            targets,
            inTenant(ctx, tenant, (id) => discardDeadLetter(ctx, id, who, note)),
            !!opts.json,
            (r: { deadLetterId: string }) => `discarded ${r.deadLetterId}`,
            opts.all ? { ...opts, verb: 'discarded' } : undefined,
          );
        });
      }),
    );
}
