// `offboard preflight`: the read-only go-live checks against the configured tenant (src/preflight).
// Exit 0 when every needed check passed, 1 otherwise, 2 for a usage or configuration error.
import type { Command } from 'commander';
import { createLogger } from '../../log.js';
import { formatReport } from '../../preflight/format.js';
import { runPreflight } from '../../preflight/run.js';
import { createRedis } from '../../redis/connection.js';
import { preflightTenant, tenantPreflightLine } from '../../tenants/preflight.js';
import { tokenProviderFor } from '../../tenants/token-provider-for.js';
import { InvalidUserError, normaliseUser } from '../../values/user.js';
import { UsageError } from '../errors.js';
import { escapeText } from '../escape.js';
import { action, config, printJson } from '../run.js';
import { tenantFilter } from '../tenant-option.js';

interface PreflightCliOptions {
  user?: string;
  json?: boolean;
  tenant?: string;
}

export function configure(cmd: Command): void {
  cmd
    .option(
      '--user <upn|id>',
      'a known test user for the inventory read (default: one user read from the directory)',
    )
    .option('--json', 'print the checks as JSON')
    .option(
      '--tenant <name>',
      'TENANTS_FILE: check this tenant (its authority and credential); default with a tenants file: every tenant, one line each',
    )
    .addHelpText(
      'after',
      `
Sends only GETs to Graph (through the read pacer) and changes no queue. Exit 0 when every needed
check passed, 1 when one failed, 2 for a usage or configuration error.

Examples:
  offboard preflight
  offboard preflight --user test.leaver@contoso.com --json
  offboard preflight --tenant contoso`,
    )
    .action(
      action(async (opts: PreflightCliOptions) => {
        let user: string | undefined;
        if (opts.user !== undefined) {
          try {
            user = normaliseUser(opts.user);
          } catch (err) {
            if (err instanceof InvalidUserError) throw new UsageError(`--user: ${err.message}`);
            throw err;
          }
        }
        const cfg = config({ needAuth: true });
        const logger = createLogger({ level: cfg.logLevel, destination: 2 });
        const redis = createRedis(cfg.redis, { name: 'offboard-preflight' });
        redis.on('error', () => {});
        try {
          const base = {
            config: cfg,
            redis,
            queueConnection: redis,
            prefix: cfg.redis.prefix,
            logger,
            ...(user ? { user } : {}),
          };
          const tenant = tenantFilter(cfg, opts.tenant);
          if (!tenant && cfg.tenants?.length) {
            // Every tenant, one line each (in turn: each takes read-budget slots of its own tenant).
            const results = [];
            for (const t of cfg.tenants) results.push(await preflightTenant(base, t, tokenProviderFor));
            if (opts.json) printJson({ ok: results.every((r) => r.report.ok), tenants: results });
            else
              process.stdout.write(`${results.map((r) => escapeText(tenantPreflightLine(r))).join('\n')}\n`);
            process.exitCode = results.every((r) => r.report.ok) ? 0 : 1;
            return;
          }
          const one = tenant ? cfg.tenants?.find((t) => t.name === tenant) : undefined;
          const report = one
            ? (await preflightTenant(base, one, tokenProviderFor)).report
            : await runPreflight(base);
          if (opts.json) printJson(report);
          else process.stdout.write(`${formatReport(report).map(escapeText).join('\n')}\n`);
          process.exitCode = report.ok ? 0 : 1;
        } finally {
          redis.disconnect();
          logger.flush();
        }
      }),
    );
}
