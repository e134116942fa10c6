// `--tenant <name>` on the CLI (TENANTS_FILE, issue 22). Producers (enqueue, import) resolve it like
// the API's `tenant` field (missing with several tenants configured is an error); listing and
// acting commands (status, dlq, batches, audit, evidence) take it as a filter. Wrong names are usage
// errors: exit 2, nothing done.
import type { Command } from 'commander';
import type { Config } from '../config/load.js';
import { configuredTenants } from '../tenants/scope.js';
import { InvalidRequestError } from '../values/invalid-request.js';
import { resolveTenant } from '../values/tenant.js';
import { UsageError } from './errors.js';

export function addTenantOption(cmd: Command, what = 'the tenant (TENANTS_FILE name)'): Command {
  return cmd.option('--tenant <name>', what);
}

/** The producer's tenant: the given one, the only configured one, or a usage error. */
export function producerTenant(
  config: Pick<Config, 'tenants'>,
  given: string | undefined,
): string | undefined {
  try {
    return resolveTenant(configuredTenants(config), given);
  } catch (err) {
    if (err instanceof InvalidRequestError) throw new UsageError(`--tenant: ${err.message}`);
    throw err;
  }
}

/** A filter: absent = every tenant; a name that is not configured is a usage error. */
export function tenantFilter(config: Pick<Config, 'tenants'>, given: string | undefined): string | undefined {
  if (given === undefined) return undefined;
  const names = configuredTenants(config);
  if (names.length === 0) throw new UsageError('--tenant: no TENANTS_FILE is configured (one tenant only)');
  if (!names.includes(given)) throw new UsageError(`--tenant: unknown tenant "${given.slice(0, 63)}"`);
  return given;
}
