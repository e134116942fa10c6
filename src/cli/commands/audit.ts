// `offboard audit export`: the audit stream as JSON lines, so it can be kept beyond AUDIT_MAX_LEN
// (run it from a nightly job, or before a large operation).
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { AUDIT_TYPES, type AuditType } from '../../interfaces.js';
import { auditStart, exportAudit } from '../../records/audit-export.js';
import { auditTenantResolver } from '../../tenants/lookup.js';
import { normaliseUser } from '../../values/user.js';
import { UsageError } from '../errors.js';
import { safe } from '../escape.js';
import { outputStream, parseInstant, writeChunk } from '../export-io.js';
import { withQueueContext } from '../queue-context.js';
import { action } from '../run.js';
import { tenantFilter } from '../tenant-option.js';

const TYPES: readonly AuditType[] = AUDIT_TYPES;

interface ExportOptions {
  tenant?: string;
  since?: string;
  until?: string;
  type?: string;
  user?: string;
  out?: string;
}

export function configure(cmd: Command): void {
  cmd
    .command('export')
    .description('Write audit entries as JSON lines (oldest first), to standard output or --out')
    .option('--since <when>', 'from this moment: 2026-12-01 (UTC), an ISO 8601 instant, or 24h / 7d back')
    .option('--until <when>', 'up to this moment (same forms); default now')
    .option('--type <types>', `only these entry types, comma-separated (${TYPES.join(', ')})`)
    .option('--user <user>', 'only the entries of one leaver (GUID or UPN)')
    .option('--tenant <name>', "TENANTS_FILE: only the entries of this tenant's jobs and batches")
    .option('--out <file>', 'write to this file instead of standard output (created, never overwritten)')
    .addHelpText(
      'after',
      `
Examples:
  offboard audit export --since 24h > audit-$(date +%F).jsonl
  offboard audit export --since 2026-12-01 --until 2026-12-02 --type approved,rejected,held
  offboard audit export --user alice@contoso.com --out alice.jsonl

The stream keeps the newest AUDIT_MAX_LEN entries; export before they are trimmed. When the stream no
longer reaches back to --since, a warning on standard error says from when it does.
Exit codes: 0 written, 1 failure (Redis), 2 invalid option.`,
    )
    .action(
      action(async (opts: ExportOptions) => {
        const now = Date.now();
        const since = opts.since !== undefined ? parseInstant(opts.since, '--since', now) : undefined;
        const until = opts.until !== undefined ? parseInstant(opts.until, '--until', now) : undefined;
        if (since !== undefined && until !== undefined && since > until) {
          throw new UsageError('--since is after --until');
        }
        let types: Set<AuditType> | undefined;
        if (opts.type !== undefined) {
          const asked = opts.type.split(',').map((s) => s.trim());
          const unknown = asked.filter((s) => !TYPES.includes(s as AuditType));
          if (unknown.length > 0) throw new UsageError(safe`unknown --type ${unknown.join(', ')}`);
          types = new Set(asked as AuditType[]);
        }
        let user: string | undefined;
        if (opts.user !== undefined) {
          try {
            user = normaliseUser(opts.user);
          } catch (err) {
            throw new UsageError(`--user: ${(err as Error).message}`);
          }
        }
        await withQueueContext(async (ctx) => {
          const first = await auditStart(ctx);
          if (since !== undefined && first !== null && first > since) {
            process.stderr.write(
              `offboard: warning: the audit stream starts at ${new Date(first).toISOString()}; nothing older is in it (trimmed at AUDIT_MAX_LEN, or never written)\n`,
            );
          }
          // Opened before the first write, so an existing file is a clear error, not a crash.
          const out: Writable = await outputStream(opts.out);
          let count = 0;
          const tenant = tenantFilter(ctx.config, opts.tenant);
          for await (const rec of exportAudit(ctx, {
            ...(tenant ? { tenant, tenantOf: auditTenantResolver(ctx) } : {}),
            ...(since !== undefined ? { since } : {}),
            ...(until !== undefined ? { until } : {}),
            ...(types ? { types } : {}),
            ...(user ? { user } : {}),
          })) {
            await writeChunk(out, `${JSON.stringify(rec)}\n`);
            count++;
          }
          if (opts.out) {
            await new Promise<void>((resolve, reject) =>
              out.end((err?: Error | null) => (err ? reject(err) : resolve())),
            );
            process.stderr.write(`${count} audit entries written to ${opts.out}\n`);
          }
        });
      }),
    );
}
