// Reading the audit stream out in time order, page by page, for `offboard audit export`. The stream is
// capped (AUDIT_MAX_LEN), so operators export it on a schedule (JSON lines) to keep the trail beyond
// the cap; the export says when the stream no longer reaches back to the asked start.
import type { AuditRecord, AuditType } from '../interfaces.js';
import { keys } from '../queue/names.js';
import type { AuditContext } from './audit.js';

export interface ExportAuditOptions {
  /** Epoch ms, inclusive. Default: the start of the stream. */
  since?: number;
  /** Epoch ms, inclusive. Default: now. */
  until?: number;
  types?: ReadonlySet<AuditType>;
  user?: string;
  /** Only entries of this tenant (TENANTS_FILE), as `tenantOf` tells (src/tenants/lookup.ts). */
  tenant?: string;
  tenantOf?: (rec: AuditRecord) => Promise<string | undefined>;
  /** Entries per XRANGE round trip. Default 1000. */
  pageSize?: number;
}

/** The oldest entry still in the stream (epoch ms), or null when the stream is empty. */
export async function auditStart(ctx: AuditContext): Promise<number | null> {
  const rows = (await ctx.redis.xrange(keys.audit(ctx.prefix), '-', '+', 'COUNT', 1)) as [string, string[]][];
  const id = rows[0]?.[0];
  return id ? Number(id.split('-')[0]) : null;
}

function parseRow([id, fields]: [string, string[]]): AuditRecord | null {
  const i = fields.indexOf('e');
  if (i < 0) return null;
  try {
    return { id, ...(JSON.parse(fields[i + 1] ?? '{}') as Omit<AuditRecord, 'id'>) };
  } catch {
    return null;
  }
}

/** Entries in stream order within [since, until], filtered; constant memory whatever the length. */
export async function* exportAudit(
  ctx: AuditContext,
  opts: ExportAuditOptions = {},
): AsyncGenerator<AuditRecord> {
  const key = keys.audit(ctx.prefix);
  const page = opts.pageSize ?? 1000;
  const end = opts.until !== undefined ? String(opts.until) : '+';
  let start = opts.since !== undefined ? String(opts.since) : '-';
  for (;;) {
    const rows = (await ctx.redis.xrange(key, start, end, 'COUNT', page)) as [string, string[]][];
    for (const row of rows) {
      const rec = parseRow(row);
      if (!rec) continue;
      if (opts.types && !opts.types.has(rec.type)) continue;
      if (opts.user && rec.user !== opts.user) continue;
      if (opts.tenant && (await opts.tenantOf?.(rec)) !== opts.tenant) continue;
      yield rec;
    }
    if (rows.length < page) return;
    start = `(${(rows[rows.length - 1] as [string, string[]])[0]}`;
  }
}
