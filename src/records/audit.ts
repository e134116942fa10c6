// Append-only audit: one capped Redis stream for everything, plus a capped, expiring per-user list
// so a user's history is one read instead of a scan of the whole log. The per-user copy is a list,
// not a stream: a new stream key costs ~4.7 KB in Redis, a short list ~150 B, and there is one per
// pending leaver (10,000 on a layoff day).
import type { AuditEntry, AuditRecord } from '../interfaces.js';
import { runScript } from '../lua/scripts.js';
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';

export interface AuditContext {
  redis: RedisClient;
  prefix: string;
  config: { retention: { auditMaxLen: number; historyMaxLen: number; historyTtlMs: number } };
}

export async function appendAudit(ctx: AuditContext, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  const { auditMaxLen, historyMaxLen, historyTtlMs } = ctx.config.retention;
  const stream = keys.audit(ctx.prefix);
  // One user (the worker's `attempt` + `retired`, or one request): one script call instead of a
  // pipeline of XADDs, RPUSH, LTRIM and PEXPIRE. Each entry is serialised once, without its user (the
  // history key names the user, about 40 B less per pending leaver); the stream copy puts it back in front.
  const user = list[0]?.user;
  if (user && list.every((e) => e.user === user)) {
    const history = list.map(({ user: _user, ...rest }) => JSON.stringify(rest));
    await runScript(
      ctx.redis,
      'records/append-audit',
      [stream, keys.userHistory(ctx.prefix, user)],
      [auditMaxLen, historyMaxLen, historyTtlMs, JSON.stringify(user), ...history],
    );
    return;
  }
  const pipeline = ctx.redis.pipeline();
  const perUser = new Map<string, string[]>();
  for (const entry of list) {
    if (!entry.user) {
      pipeline.xadd(stream, 'MAXLEN', '~', auditMaxLen, '*', 'e', JSON.stringify(entry));
      continue;
    }
    const { user: who, ...rest } = entry;
    const body = JSON.stringify(rest);
    pipeline.xadd(stream, 'MAXLEN', '~', auditMaxLen, '*', 'e', withUser(who, body));
    const rows = perUser.get(who);
    if (rows) rows.push(body);
    else perUser.set(who, [body]);
  }
  for (const [who, rows] of perUser) {
    const hk = keys.userHistory(ctx.prefix, who);
    pipeline.rpush(hk, ...rows);
    pipeline.ltrim(hk, -historyMaxLen, -1);
    pipeline.pexpire(hk, historyTtlMs);
  }
  const results = await pipeline.exec();
  const failed = results?.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
}

/** The stream copy of an entry serialised without its user: `{"user":…,` + the rest. */
function withUser(user: string, body: string): string {
  return `{"user":${JSON.stringify(user)},${body.slice(1)}`;
}

function parse(rows: [string, string[]][]): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const [id, fields] of rows) {
    const i = fields.indexOf('e');
    if (i < 0) continue;
    try {
      out.push({ id, ...(JSON.parse(fields[i + 1] ?? '{}') as AuditEntry) });
    } catch {
      // A corrupt entry must not hide the rest of the trail.
    }
  }
  return out;
}

export interface ReadAuditOptions {
  /** Newest first when true (default). */
  reverse?: boolean;
  count?: number;
  /** Exclusive stream id bound for paging. */
  before?: string;
}

export async function readAudit(ctx: AuditContext, opts: ReadAuditOptions = {}): Promise<AuditRecord[]> {
  const count = Math.min(opts.count ?? 100, 10_000);
  const key = keys.audit(ctx.prefix);
  const rows =
    opts.reverse === false
      ? await ctx.redis.xrange(key, opts.before ? `(${opts.before}` : '-', '+', 'COUNT', count)
      : await ctx.redis.xrevrange(key, opts.before ? `(${opts.before}` : '+', '-', 'COUNT', count);
  return parse(rows as [string, string[]][]);
}

/** The user's history, oldest first. Ids are `h-<position>` (the global stream holds the stream ids). */
export async function userHistory(ctx: AuditContext, user: string, count = 200): Promise<AuditRecord[]> {
  const rows = await ctx.redis.lrange(keys.userHistory(ctx.prefix, user), -count, -1);
  const out: AuditRecord[] = [];
  for (const [i, row] of rows.entries()) {
    try {
      // Entries written before the per-user copy dropped the field still carry their own `user`.
      out.push({ id: `h-${i}`, user, ...(JSON.parse(row) as AuditEntry) });
    } catch {
      // A corrupt entry must not hide the rest of the trail.
    }
  }
  return out;
}
